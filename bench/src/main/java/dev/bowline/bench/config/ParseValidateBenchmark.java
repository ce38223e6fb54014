package dev.bowline.bench.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.validation.Validator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Resources per second on one thread: parse a multi-document YAML text of typical resources
 * (Bowline's records, and fabric8's Istio model for comparison), and parse + validate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx512m"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ParseValidateBenchmark {
  static final int SERVICES = 25;
  static final int RESOURCES = SERVICES * Corpus.PER_SERVICE;

  String yaml;
  List<String> documents;
  ResourceCodec codec;
  Validator validator;
  YAMLMapper fabric8Mapper;
  Map<String, Class<?>> fabric8Kinds;

  @Setup
  public void setup() {
    yaml = Corpus.services(0, SERVICES);
    codec = new ResourceCodec();
    validator = new Validator();
    Decoded d = codec.decode("corpus", yaml);
    if (!d.errors().isEmpty() || d.resources().size() != RESOURCES) {
      throw new IllegalStateException("corpus is not valid: " + d.errors());
    }
    for (Resource<?> r : d.resources()) {
      if (!validator.validate(r).isValid()) {
        throw new IllegalStateException("corpus is not valid: " + validator.validate(r));
      }
    }
    documents = new ArrayList<>(List.of(yaml.split("(?m)^---\\s*$")));
    documents.removeIf(String::isBlank);
    fabric8Mapper = new YAMLMapper();
    fabric8Kinds =
        Map.of(
            "VirtualService", io.fabric8.istio.api.networking.v1.VirtualService.class,
            "DestinationRule", io.fabric8.istio.api.networking.v1.DestinationRule.class,
            "ServiceEntry", io.fabric8.istio.api.networking.v1.ServiceEntry.class,
            "WorkloadEntry", io.fabric8.istio.api.networking.v1.WorkloadEntry.class,
            "Gateway", io.fabric8.istio.api.networking.v1.Gateway.class,
            "PeerAuthentication", io.fabric8.istio.api.security.v1.PeerAuthentication.class,
            "AuthorizationPolicy", io.fabric8.istio.api.security.v1.AuthorizationPolicy.class);
  }

  /** Bowline: YAML text to immutable records, strict (unknown fields are errors). */
  @Benchmark
  @OperationsPerInvocation(RESOURCES)
  public Decoded parse() {
    return codec.decode("corpus", yaml);
  }

  /** Bowline: parse, then Istio's validation rules. The figure the issue asks for. */
  @Benchmark
  @OperationsPerInvocation(RESOURCES)
  public void parseAndValidate(Blackhole bh) {
    for (Resource<?> r : codec.decode("corpus", yaml).resources()) {
      bh.consume(validator.validate(r));
    }
  }

  /** fabric8's Istio model: YAML document to its (mutable) classes, by kind; no validation. */
  @Benchmark
  @OperationsPerInvocation(RESOURCES)
  public void fabric8Parse(Blackhole bh) throws Exception {
    for (String doc : documents) {
      JsonNode node = fabric8Mapper.readTree(doc);
      bh.consume(fabric8Mapper.treeToValue(node, fabric8Kinds.get(node.get("kind").asText())));
    }
  }
}
