package dev.bowline.bench.rbac;

import com.google.protobuf.Struct;
import com.google.protobuf.TextFormat;
import dev.bowline.proxy.rbac.RbacEngine;
import dev.bowline.proxy.rbac.RbacInput;
import dev.bowline.proxy.rbac.RbacProtos;
import dev.bowline.proxy.tls.TlsPeer;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One request through an ALLOW engine of the shape istiod emits for a workload with three policies
 * (a principal, a namespace regex with method and path, an IP block), compiled once: the allowed
 * request matches the third policy by name order, the denied one none. Run with {@code -prof gc}:
 * {@code gc.alloc.rate.norm} is the bytes allocated per evaluation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RbacEngineBenchmark {
  private RbacEngine engine;
  private Input allowed;
  private Input denied;

  static final String RULES =
      """
      action: ALLOW
      policies { key: "ns[weather]-policy[a-ip]-rule[0]" value {
        permissions { and_rules { rules { any: true } } }
        principals { and_ids { ids { or_ids { ids { direct_remote_ip { address_prefix: "10.9.0.0" prefix_len { value: 16 } } } } } } } } }
      policies { key: "ns[weather]-policy[b-ns]-rule[0]" value {
        permissions { and_rules {
          rules { or_rules { rules { header { name: ":method" string_match { exact: "POST" } } } } }
          rules { or_rules { rules { url_path { path { prefix: "/admin/" } } } } } } }
        principals { and_ids { ids { or_ids { ids { authenticated { principal_name { safe_regex { regex: ".*/ns/ops/.*" } } } } } } } } } }
      policies { key: "ns[weather]-policy[c-frontend]-rule[0]" value {
        permissions { and_rules {
          rules { or_rules { rules { header { name: ":method" string_match { exact: "GET" } } } } }
          rules { or_rules { rules { url_path { path { prefix: "/api/" } } } } } } }
        principals { and_ids { ids { or_ids { ids { authenticated { principal_name { exact: "spiffe://cluster.local/ns/weather/sa/frontend" } } } } } } } } }
      """;

  @Setup
  public void setup() throws Exception {
    RBAC.Builder b = RBAC.newBuilder();
    TextFormat.merge(RULES, b);
    engine = RbacProtos.engine(b.build(), "rules");
    allowed = new Input("GET", "/api/forecast", "spiffe://cluster.local/ns/weather/sa/frontend");
    denied =
        new Input("GET", "/api/forecast", "spiffe://cluster.local/ns/weather/sa/advertisement");
    if (!engine.allowed(engine.firstMatch(allowed)) || engine.allowed(engine.firstMatch(denied))) {
      throw new IllegalStateException("the benchmark's requests do not decide as intended");
    }
  }

  @Benchmark
  public boolean allowedRequest() {
    return engine.allowed(engine.firstMatch(allowed));
  }

  @Benchmark
  public boolean deniedRequest() {
    return engine.allowed(engine.firstMatch(denied));
  }

  /** A fixed request, as the HTTP filter's stream input would answer. */
  static final class Input implements RbacInput {
    private final String method;
    private final String path;
    private final TlsPeer peer;
    private final byte[] remote = InetAddress.ofLiteral("10.1.2.3").getAddress();
    private final byte[] local = InetAddress.ofLiteral("10.1.2.4").getAddress();

    Input(String method, String path, String principal) {
      this.method = method;
      this.path = path;
      this.peer = new TlsPeer(List.of(), List.of(principal), "istio", "TLSv1.3", "x");
    }

    @Override
    public @Nullable String header(String name) {
      return name.equals(":method") ? method : null;
    }

    @Override
    public String urlPath() {
      return path;
    }

    @Override
    public byte[] destinationIp() {
      return local;
    }

    @Override
    public int destinationPort() {
      return 3002;
    }

    @Override
    public byte[] directRemoteIp() {
      return remote;
    }

    @Override
    public byte[] remoteIp() {
      return remote;
    }

    @Override
    public TlsPeer tlsPeer() {
      return peer;
    }

    @Override
    public String requestedServerName() {
      return "";
    }

    @Override
    public @Nullable Struct dynamicMetadata(String filter) {
      return null;
    }
  }
}
