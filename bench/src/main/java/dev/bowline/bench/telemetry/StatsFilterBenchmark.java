package dev.bowline.bench.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.FilterEnvironment;
import dev.bowline.proxy.http.filter.NodeInfo;
import dev.bowline.proxy.http.filter.ResponseFlags;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.TrafficDirection;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.http.filter.stats.StatsFilter;
import dev.bowline.proxy.http.filter.stats.StatsPlugin;
import dev.bowline.proxy.stats.Stats;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Clock;
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
    fail.flags.set(dev.bowline.proxy.http.filter.ResponseFlag.UF);
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

  /** A finished stream, as the connection manager shows it to the filter. */
  static final class FakeStream implements StreamInfo {
    final PeerInfo peer;
    final int code;
    dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable TlsPeer tls;
    final ResponseFlags flags = new ResponseFlags();
    final HttpHeaders request =
        new DefaultHttpHeaders().add("host", "forecast.weather:3002").add("x-request-id", "abc");
    final HttpHeaders response = new DefaultHttpHeaders().add("content-length", "512");

    FakeStream(PeerInfo peer, int code) {
      this.peer = peer;
      this.code = code;
    }

    @Override
    public long startEpochMillis() {
      return 0;
    }

    @Override
    public long startNanos() {
      return 0;
    }

    @Override
    public long durationNanos() {
      return 3_400_000;
    }

    @Override
    public long responseStartNanos() {
      return 3_000_000;
    }

    @Override
    public int responseCode() {
      return code;
    }

    @Override
    public ResponseFlags responseFlags() {
      return flags;
    }

    @Override
    public long bytesReceived() {
      return 0;
    }

    @Override
    public long bytesSent() {
      return 512;
    }

    @Override
    public String protocol() {
      return "HTTP/1.1";
    }

    @Override
    public HttpHeaders requestHeaders() {
      return request;
    }

    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return "/weather?city=beijing";
    }

    @Override
    public @Nullable HttpHeaders responseHeaders() {
      return response;
    }

    @Override
    public @Nullable HttpHeaders responseTrailers() {
      return null;
    }

    @Override
    public @Nullable String upstreamCluster() {
      return "outbound|3002|v1|forecast.weather.svc.cluster.local";
    }

    @Override
    public @Nullable String upstreamHost() {
      return "127.0.0.3:3002";
    }

    @Override
    public @Nullable String routeName() {
      return "default";
    }

    @Override
    public String downstreamRemoteAddress() {
      return "127.0.0.2:40000";
    }

    @Override
    public String downstreamLocalAddress() {
      return "127.0.0.2:15001";
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> @Nullable T get(StateKey<T> key) {
      return key == MetadataExchangePlugin.UPSTREAM_PEER ? (T) peer : null;
    }

    @Override
    public <T> void put(StateKey<T> key, T value) {}

    @Override
    public dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable TlsPeer upstreamTlsPeer() {
      return tls;
    }
  }
}
