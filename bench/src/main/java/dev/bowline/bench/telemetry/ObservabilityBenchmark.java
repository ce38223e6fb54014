package dev.bowline.bench.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.accesslog.AccessLogWriter;
import dev.bowline.proxy.accesslog.FileAccessLog;
import dev.bowline.proxy.accesslog.LogFormat;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.NodeInfo;
import dev.bowline.proxy.http.filter.TrafficDirection;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangeConfig;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.tracing.HttpTracer;
import dev.bowline.proxy.tracing.Span;
import dev.bowline.proxy.tracing.SpanReporter;
import dev.bowline.proxy.tracing.TracingConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request work each observability feature adds on the event loop, as {@code
 * bench/proxy/observability.sh} configures it (issue #10): tracing's decision for a request that is
 * not sampled (99% of them at Istio's default 1%) and the whole span of one that is, metadata
 * exchange on an inbound sidecar (the peer's headers taken off the request, ours put on the
 * response), and one access-log line in that script's (Istio's) text format. Run with {@code -prof
 * gc}: {@code gc.alloc.rate.norm} is the bytes one request allocates. The header objects are reused
 * between operations (each operation puts back what the previous one changed), so their own cost is
 * a constant part of every figure.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ObservabilityBenchmark {
  /** An x-request-id whose first eight hex digits are 99.xx% of 10,000 apart: not sampled at 1%. */
  private static final String UNSAMPLED_ID = "ffffffff-8d4f-4a6b-9c7d-0e1f2a3b4c5d";

  /** First eight hex digits 0: sampled at any rate above 0. */
  private static final String SAMPLED_ID = "00000000-8d4f-4a6b-9c7d-0e1f2a3b4c5d";

  /** The access-log format of bench/proxy/observability.sh (Istio's default text format). */
  static final String ISTIO_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
          + "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
          + "%CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" "
          + "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
          + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
          + "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
          + "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
          + "%ROUTE_NAME%\n";

  private final SplittableRandom random = new SplittableRandom(7);
  private HttpTracer tracer;
  private SpanReporter reporter;
  private HttpRequest unsampled;
  private HttpRequest sampled;
  private FakeStream stream;
  private HttpFilter exchange;
  private HttpRequest peerRequest;
  private HttpResponse appResponse;
  private String peerValue;
  private String peerId;
  private FileAccessLog accessLog;
  private FileAccessLog jsonAccessLog;
  private AccessLogWriter writer;

  /**
   * Istio's JSON access-log format (mesh config {@code accessLogEncoding: JSON}): the same fields
   * as {@link #ISTIO_FORMAT}, each value a JSON string or number.
   */
  static final Map<String, String> ISTIO_JSON_FORMAT =
      orderedMap(
          "start_time", "%START_TIME%",
          "method", "%REQ(:METHOD)%",
          "path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
          "protocol", "%PROTOCOL%",
          "response_code", "%RESPONSE_CODE%",
          "response_flags", "%RESPONSE_FLAGS%",
          "response_code_details", "%RESPONSE_CODE_DETAILS%",
          "connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%",
          "upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
          "bytes_received", "%BYTES_RECEIVED%",
          "bytes_sent", "%BYTES_SENT%",
          "duration", "%DURATION%",
          "upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
          "x_forwarded_for", "%REQ(X-FORWARDED-FOR)%",
          "user_agent", "%REQ(USER-AGENT)%",
          "request_id", "%REQ(X-REQUEST-ID)%",
          "authority", "%REQ(:AUTHORITY)%",
          "upstream_host", "%UPSTREAM_HOST%",
          "upstream_cluster", "%UPSTREAM_CLUSTER%",
          "upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%",
          "downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%",
          "downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%",
          "requested_server_name", "%REQUESTED_SERVER_NAME%",
          "route_name", "%ROUTE_NAME%");

  private static Map<String, String> orderedMap(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Setup
  public void setup() throws Exception {
    TracingConfig tracing =
        new TracingConfig(
            new TracingConfig.OpenTelemetry(
                "outbound|4317||otel-collector.istio-system.svc.cluster.local",
                true,
                "otel-collector.istio-system.svc.cluster.local",
                "",
                Map.of(),
                ""),
            100, // random_sampling 1% (parts of 10,000)
            TracingConfig.ALL,
            TracingConfig.ALL,
            List.of(
                new TracingConfig.Literal("istio.canonical_service", "bench"),
                new TracingConfig.Literal("istio.mesh_id", "cluster.local")),
            false,
            256,
            false,
            new TracingConfig.LocalNode(
                "sidecar~127.0.8.4~bench-v1.bench~bench.svc.cluster.local",
                "bench.bench",
                "zone-a"));
    // A closed reporter drops what it is given (counted): the span's own work is measured, not
    // the export thread's.
    reporter = new SpanReporter(ProxySnapshot::empty, new Stats(), 10_000, 512, 1000);
    reporter.close();
    tracer = new HttpTracer(tracing, reporter);
    unsampled = request(UNSAMPLED_ID);
    sampled = request(SAMPLED_ID);

    Struct ours = metadata("bench-v1", "bench", "v1");
    MetadataExchangePlugin plugin =
        new MetadataExchangePlugin(
            new NodeInfo("sidecar~127.0.8.4~bench-v1.bench~bench.svc.cluster.local", "", ours));
    MetadataExchangeConfig inbound =
        plugin.parse("", Any.getDefaultInstance(), new FilterContext(TrafficDirection.INBOUND));
    PeerInfo none = PeerInfo.NONE;
    stream = new FakeStream(none, 200);
    exchange = plugin.create(inbound, stream);
    peerValue =
        java.util.Base64.getEncoder()
            .encodeToString(
                MetadataExchangePlugin.exchanged(metadata("frontend-v1", "frontend", "v1"))
                    .toByteArray());
    peerId = "sidecar~127.0.0.2~frontend-v1-0.weather~weather.svc.cluster.local";
    peerRequest = request(UNSAMPLED_ID);
    appResponse = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    appResponse.headers().add("content-type", "text/plain").add("content-length", "1024");

    writer = new AccessLogWriter(1000, 100_000);
    writer.close(); // drops (and counts) every line: the event loop's part is measured
    accessLog = new FileAccessLog("/dev/null", LogFormat.text(ISTIO_FORMAT), writer);
    jsonAccessLog = new FileAccessLog("/dev/null", LogFormat.json(ISTIO_JSON_FORMAT), writer);
  }

  @TearDown
  public void tearDown() {
    reporter.close();
    writer.close();
  }

  private static HttpRequest request(String requestId) {
    HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/1k");
    r.headers()
        .add("host", "127.0.8.4:8080")
        .add("user-agent", "wrk")
        .add("x-forwarded-proto", "http")
        .add("x-request-id", requestId);
    return r;
  }

  static Struct metadata(String workload, String app, String version) {
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

  /** Tracing on, request not sampled: the decision alone (no span). */
  @Benchmark
  public Span tracingUnsampled() {
    return tracer.start(unsampled.headers(), random, 0);
  }

  /** Tracing on, request sampled: span started, context injected upstream, tags set, reported. */
  @Benchmark
  public Span tracingSampled() {
    HttpHeaders h = sampled.headers();
    h.set("x-request-id", SAMPLED_ID); // as it arrives: no decision recorded yet
    h.remove("traceparent"); // the previous operation's injected context
    Span s = tracer.start(h, random, 0);
    tracer.inject(s, h);
    tracer.finish(s, stream, "bench.bench.svc.cluster.local:8080/*");
    return s;
  }

  /**
   * Metadata exchange on an inbound sidecar: the caller's headers (a known peer) are taken off the
   * request, ours are put on the response.
   */
  @Benchmark
  public HttpResponse metadataExchangeInbound() {
    HttpHeaders req = peerRequest.headers();
    req.set("x-envoy-peer-metadata", peerValue); // the caller's sidecar sends these each time
    req.set("x-envoy-peer-metadata-id", peerId);
    exchange.onRequestHeaders(peerRequest, (status, body) -> {});
    HttpHeaders resp = appResponse.headers();
    resp.remove("x-envoy-peer-metadata"); // the previous operation's
    resp.remove("x-envoy-peer-metadata-id");
    exchange.onResponseHeaders(appResponse);
    return appResponse;
  }

  /** One access-log line formatted and encoded (the writer thread's part is not measured). */
  @Benchmark
  public long accessLogLine() {
    accessLog.log(stream);
    return writer.dropped();
  }

  /** The same line in Istio's JSON format: every key and string value quoted and escaped. */
  @Benchmark
  public long accessLogJsonLine() {
    jsonAccessLog.log(stream);
    return writer.dropped();
  }
}
