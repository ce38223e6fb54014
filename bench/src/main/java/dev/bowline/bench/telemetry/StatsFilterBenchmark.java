package dev.bowline.bench.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.FilterEnvironment;
import dev.bowline.proxy.http.filter.NodeInfo;
import dev.bowline.proxy.http.filter.TrafficDirection;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.http.filter.stats.StatsFilter;
import dev.bowline.proxy.http.filter.stats.StatsPlugin;
import dev.bowline.proxy.stats.Stats;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The stats filter's per-request work on the steady path (known peer, service and outcome), client
 * side: run with {@code -prof gc}; {@code gc.alloc.rate.norm} is the bytes allocated per request.
 * The stream is a fixed fake, so only the filter's own work is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StatsFilterBenchmark {
  private StatsFilter filter;
  private FakeStream ok;
  private FakeStream fail;
  private FakeStream mtls;

  @Setup
  public void setup() throws Exception {
    NodeInfo node =
        new NodeInfo(
            "sidecar~127.0.0.2~frontend-v1-0.weather~weather.svc.cluster.local",
            "frontend.weather",
            metadata("frontend-v1", "frontend", "v1"));
    StatsPlugin plugin =
        new StatsPlugin(new FilterEnvironment(node, new Stats(), Clock.systemUTC()));
    filter =
        plugin.parse(
            "stats_outbound",
            Any.pack(StringValue.of("{\"debug\":\"false\",\"stat_prefix\":\"istio\"}")),
            new FilterContext(TrafficDirection.OUTBOUND));
    PeerInfo forecast =
        PeerInfo.of(
            "sidecar~127.0.0.3~forecast-v1-0.weather~weather.svc.cluster.local",
            metadata("forecast-v1", "forecast", "v1"));
    ok = new FakeStream(forecast, 200);
    fail = new FakeStream(forecast, 503);
    fail.flags |= dev.bowline.proxy.http.filter.ResponseFlag.UF.bit();
    mtls = new FakeStream(forecast, 200);
    mtls.tls =
        new dev.bowline.proxy.tls.TlsPeer(
            java.util.List.of(),
            java.util.List.of("spiffe://cluster.local/ns/weather/sa/forecast"),
            "istio",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            java.util.List.of("spiffe://cluster.local/ns/weather/sa/frontend"));
  }

  private static Struct metadata(String workload, String app, String version) {
    return Struct.newBuilder()
        .putFields("NAME", str(workload + "-0"))
        .putFields("NAMESPACE", str("weather"))
        .putFields("WORKLOAD_NAME", str(workload))
        .putFields("CLUSTER_ID", str("Kubernetes"))
        .putFields("SERVICE_ACCOUNT", str(app))
        .putFields(
            "LABELS",
            Value.newBuilder()
                .setStructValue(
                    Struct.newBuilder()
                        .putFields("app", str(app))
                        .putFields("version", str(version)))
                .build())
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  /** One request counted (counter and three histograms). */
  @Benchmark
  public void recordOk() {
    filter.record(ok);
  }

  /** One request over an mTLS upstream connection: principals from its TLS peer. */
  @Benchmark
  public void recordMtls() {
    filter.record(mtls);
  }

  /** Alternating outcomes: two series of one group. */
  @Benchmark
  @Threads(2)
  public void recordTwoThreads() {
    filter.record(ok);
    filter.record(fail);
  }
}
