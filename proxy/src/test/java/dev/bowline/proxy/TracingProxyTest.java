package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tracing through real proxies, real sockets and real collectors: a client sidecar (outbound,
 * OpenTelemetry over gRPC, 0% random sampling) in front of a server sidecar (inbound, 100%) in
 * front of an app; a Zipkin sidecar posting JSON v2 to a small HTTP collector; an OTLP/HTTP
 * sidecar.
 */
class TracingProxyTest {
  static final String IP = "127.0.9.1";
  static HttpServer app; // the app, the Zipkin collector and the OTLP/HTTP collector
  static Server otlp;
  static final ConcurrentLinkedQueue<ResourceSpans> grpcSpans = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<ResourceSpans> httpSpans = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<JsonNode> zipkinSpans = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<Map<String, List<String>>> seenByApp =
      new ConcurrentLinkedQueue<>();
  static final List<Proxy> proxies = new ArrayList<>();
  static int clientPort;
  static int zipkinPort;
  static int otlpHttpPort;
  static final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String bootstrap(
      String nodeCluster,
      int port,
      String direction,
      String tracing,
      String upstream,
      int upstreamPort,
      String collectorCluster,
      int collectorPort) {
    return """
        node: {id: "sidecar~%1$s~%2$s-v1.weather~weather.svc.cluster.local", cluster: %2$s.weather, locality: {zone: zone-a}}
        static_resources:
          listeners:
          - name: l
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            traffic_direction: %4$s
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: l
                  internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
                  tracing:
        %5$s
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: "%6$s"}
                        decorator: {operation: "%2$s.weather.svc.cluster.local:80/*"}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          clusters:
          - name: "%6$s"
            type: STATIC
            load_assignment:
              cluster_name: up
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %1$s, port_value: %7$d}}}}]}]
          - name: "%8$s"
            type: STATIC
            load_assignment:
              cluster_name: collector
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %1$s, port_value: %9$d}}}}]}]
        """
        .formatted(
            IP,
            nodeCluster,
            port,
            direction,
            tracing.indent(12).stripTrailing(),
            upstream,
            upstreamPort,
            collectorCluster,
            collectorPort);
  }

  static String otelGrpc(int percent) {
    return """
        random_sampling: {value: %d}
        custom_tags:
        - {tag: istio.mesh_id, literal: {value: cluster.local}}
        - {tag: user, request_header: {name: x-user, default_value: nobody}}
        - {tag: home, environment: {name: BOWLINE_TRACING_TEST_UNSET, default_value: none}}
        provider:
          name: envoy.tracers.opentelemetry
          typed_config:
            "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
            grpc_service: {envoy_grpc: {cluster_name: "outbound|4317||otel.svc"}}
        """
        .formatted(percent);
  }

  @BeforeAll
  static void start() throws IOException {
    ObjectMapper json = new ObjectMapper();
    app = HttpServer.create(new InetSocketAddress(IP, 0), 64);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          seenByApp.add(Map.copyOf(ex.getRequestHeaders()));
          ex.getRequestBody().readAllBytes();
          int status = ex.getRequestURI().getPath().startsWith("/fail") ? 503 : 200;
          byte[] out = "app".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    app.createContext(
        "/api/v2/spans",
        ex -> {
          assertThat(ex.getRequestHeaders().getFirst("content-type")).isEqualTo("application/json");
          json.readTree(ex.getRequestBody()).forEach(zipkinSpans::add);
          ex.sendResponseHeaders(202, -1);
          ex.close();
        });
    app.createContext(
        "/v1/traces",
        ex -> {
          httpSpans.addAll(
              ExportTraceServiceRequest.parseFrom(ex.getRequestBody().readAllBytes())
                  .getResourceSpansList());
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    app.start();
    int appPort = app.getAddress().getPort();
    otlp =
        NettyServerBuilder.forAddress(new InetSocketAddress(IP, 0))
            .addService(
                new TraceServiceGrpc.TraceServiceImplBase() {
                  @Override
                  public void export(
                      ExportTraceServiceRequest request,
                      StreamObserver<ExportTraceServiceResponse> response) {
                    grpcSpans.addAll(request.getResourceSpansList());
                    response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
    int serverPort = Ports.free(IP);
    start(
        bootstrap(
            "forecast",
            serverPort,
            "INBOUND",
            otelGrpc(100),
            "inbound|8080||",
            appPort,
            "outbound|4317||otel.svc",
            otlp.getPort()));
    clientPort = Ports.free(IP);
    start(
        bootstrap(
            "frontend",
            clientPort,
            "OUTBOUND",
            otelGrpc(0),
            "outbound|80||forecast.weather.svc.cluster.local",
            serverPort,
            "outbound|4317||otel.svc",
            otlp.getPort()));
    zipkinPort = Ports.free(IP);
    start(
        bootstrap(
            "zipkinapp",
            zipkinPort,
            "INBOUND",
            """
            random_sampling: {value: 100}
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: "outbound|9411||zipkin.svc"
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
                trace_id_128bit: true
                shared_span_context: false
            """,
            "inbound|8080||",
            appPort,
            "outbound|9411||zipkin.svc",
            appPort));
    otlpHttpPort = Ports.free(IP);
    start(
        bootstrap(
            "httpapp",
            otlpHttpPort,
            "INBOUND",
            """
            random_sampling: {value: 100}
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                http_service:
                  http_uri: {uri: "http://collector:4318/v1/traces", cluster: "outbound|4318||otel.svc", timeout: 5s}
            """,
            "inbound|8080||",
            appPort,
            "outbound|4318||otel.svc",
            appPort));
  }

  private static void start(String yaml) {
    proxies.add(
        Proxy.start(
            new BootstrapLoader().parse("tracing.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1)));
  }

  @AfterAll
  static void stop() {
    proxies.forEach(Proxy::close);
    if (otlp != null) {
      otlp.shutdownNow();
    }
    if (app != null) {
      app.stop(0);
    }
  }

  static HttpResponse<String> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static List<Span> spansOf(ConcurrentLinkedQueue<ResourceSpans> q, String requestId) {
    List<Span> out = new ArrayList<>();
    for (ResourceSpans rs : q) {
      rs.getScopeSpansList()
          .forEach(
              ss ->
                  ss.getSpansList().stream()
                      .filter(
                          s -> {
                            String id = attr(s, "guid:x-request-id");
                            return id != null && id.startsWith(requestId.substring(0, 8));
                          })
                      .forEach(out::add));
    }
    return out;
  }

  static String serviceOf(ConcurrentLinkedQueue<ResourceSpans> q, Span span) {
    for (ResourceSpans rs : q) {
      for (var ss : rs.getScopeSpansList()) {
        if (ss.getSpansList().contains(span)) {
          return rs.getResource().getAttributes(0).getValue().getStringValue();
        }
      }
    }
    return "";
  }

  static String attr(Span s, String key) {
    return s.getAttributesList().stream()
        .filter(kv -> kv.getKey().equals(key))
        .map(kv -> kv.getValue().getStringValue())
        .findFirst()
        .orElse(null);
  }

  static Map<String, List<String>> seenWith(String requestIdPrefix) {
    return seenByApp.stream()
        .filter(
            h -> h.getOrDefault("X-request-id", List.of("")).getFirst().startsWith(requestIdPrefix))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anIncomingSampledContextIsContinuedThroughBothSidecarsWithEnvoysTags() throws Exception {
    String parentTrace = "0af7651916cd43dd8448eb211c80319c";
    String rid = "11111111-2222-4333-8444-555555555555";
    var r =
        get(
            clientPort,
            "/forecast?city=Oslo",
            "traceparent",
            "00-" + parentTrace + "-b7ad6b7169203331-01",
            "x-request-id",
            rid,
            "x-user",
            "ann");
    assertThat(r.statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> spansOf(grpcSpans, rid).size() == 2);
    List<Span> spans = spansOf(grpcSpans, rid);
    Span client =
        spans.stream()
            .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
            .findFirst()
            .orElseThrow();
    Span server =
        spans.stream()
            .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER)
            .findFirst()
            .orElseThrow();
    HexFormat hex = HexFormat.of();
    assertThat(hex.formatHex(client.getTraceId().toByteArray())).isEqualTo(parentTrace);
    assertThat(hex.formatHex(server.getTraceId().toByteArray())).isEqualTo(parentTrace);
    assertThat(hex.formatHex(client.getParentSpanId().toByteArray())).isEqualTo("b7ad6b7169203331");
    assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
    assertThat(client.getName()).isEqualTo("frontend.weather.svc.cluster.local:80/*");
    // Envoy: the client's route decorator goes upstream in x-envoy-decorator-operation and names
    // the server span too (so both halves of the call carry one operation name)
    assertThat(server.getName()).isEqualTo("frontend.weather.svc.cluster.local:80/*");
    assertThat(seenWith("11111111")).doesNotContainKey("X-envoy-decorator-operation");
    // the server sidecar sends its operation back; the client sidecar takes it off
    assertThat(r.headers().firstValue("x-envoy-decorator-operation")).isEmpty();
    assertThat(serviceOf(grpcSpans, client)).isEqualTo("frontend.weather");
    assertThat(serviceOf(grpcSpans, server)).isEqualTo("forecast.weather");
    assertThat(attr(server, "component")).isEqualTo("proxy");
    assertThat(attr(server, "node_id"))
        .isEqualTo("sidecar~" + IP + "~forecast-v1.weather~weather.svc.cluster.local");
    assertThat(attr(server, "zone")).isEqualTo("zone-a");
    assertThat(attr(server, "http.url"))
        .isEqualTo("http://" + IP + ":" + clientPort + "/forecast?city=Oslo");
    assertThat(attr(server, "http.method")).isEqualTo("GET");
    assertThat(attr(server, "http.protocol")).isEqualTo("HTTP/1.1");
    assertThat(attr(server, "http.status_code")).isEqualTo("200");
    assertThat(attr(server, "response_flags")).isEqualTo("-");
    assertThat(attr(server, "upstream_cluster")).isEqualTo("inbound|8080||");
    assertThat(attr(client, "upstream_cluster.name"))
        .isEqualTo("outbound|80||forecast.weather.svc.cluster.local");
    assertThat(attr(server, "peer.address")).startsWith("127."); // the client sidecar's address
    assertThat(attr(server, "response_size")).isEqualTo("3");
    assertThat(attr(server, "request_size")).isEqualTo("0");
    assertThat(attr(server, "istio.mesh_id")).isEqualTo("cluster.local");
    assertThat(attr(server, "user")).isEqualTo("ann");
    assertThat(attr(server, "home")).isEqualTo("none");
    assertThat(attr(server, "error")).isNull();
    // the app sees the server span as its caller, so its own calls continue the trace
    String tp = seenWith("11111111").get("Traceparent").getFirst();
    assertThat(tp)
        .isEqualTo(
            "00-" + parentTrace + "-" + hex.formatHex(server.getSpanId().toByteArray()) + "-01");
  }

  @Test
  void notSampledRequestsMakeNoSpanAndForcedOnesDo() throws Exception {
    String plain = "22222222-2222-4333-8444-555555555555";
    String forced = "33333333-2222-4333-8444-555555555555";
    assertThat(get(clientPort, "/plain", "x-request-id", plain).statusCode()).isEqualTo(200);
    assertThat(
            get(
                    clientPort,
                    "/forced",
                    "x-request-id",
                    forced,
                    "x-envoy-force-trace",
                    "1",
                    "x-forwarded-for",
                    "10.0.0.1")
                .statusCode())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> spansOf(grpcSpans, forced).size() == 2);
    // the plain request (0% at the client, no context): no client span and no context upstream;
    // the server (100%) decides again on the same, untouched x-request-id and starts a new trace
    await().atMost(Duration.ofSeconds(10)).until(() -> spansOf(grpcSpans, plain).size() == 1);
    Span only = spansOf(grpcSpans, plain).getFirst();
    assertThat(only.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(only.getParentSpanId().isEmpty()).isTrue();
    assertThat(attr(only, "guid:x-request-id")).isEqualTo("22222222-2222-9333-8444-555555555555");
    // forced (from an internal client: Envoy strips x-envoy-force-trace from external ones):
    // Envoy marks the request id ('a' at index 14, TRACE_FORCED) and every proxy keeps the decision
    assertThat(seenWith("33333333").get("X-request-id").getFirst())
        .isEqualTo("33333333-2222-a333-8444-555555555555");
    assertThat(spansOf(grpcSpans, forced))
        .allSatisfy(
            sp ->
                assertThat(attr(sp, "guid:x-request-id"))
                    .isEqualTo("33333333-2222-a333-8444-555555555555"));
  }

  @Test
  void aFailedUpstreamIsAnErrorSpan() throws Exception {
    String rid = "44444444-2222-4333-8444-555555555555";
    assertThat(
            get(
                    clientPort,
                    "/fail",
                    "x-request-id",
                    rid,
                    "x-envoy-force-trace",
                    "1",
                    "x-forwarded-for",
                    "10.0.0.1")
                .statusCode())
        .isEqualTo(503);
    await().atMost(Duration.ofSeconds(10)).until(() -> spansOf(grpcSpans, rid).size() == 2);
    for (Span s : spansOf(grpcSpans, rid)) {
      assertThat(attr(s, "error")).isEqualTo("true");
      assertThat(attr(s, "http.status_code")).isEqualTo("503");
      assertThat(s.getStatus().getCode())
          .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
    }
  }

  @Test
  void zipkinSpansArePostedAsJsonV2WithB3Upstream() throws Exception {
    String rid = "55555555-2222-4333-8444-555555555555";
    var r =
        get(
            zipkinPort,
            "/z",
            "x-request-id",
            rid,
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
    assertThat(r.statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                zipkinSpans.stream()
                    .anyMatch(
                        s -> s.at("/tags/guid:x-request-id").asText().startsWith("55555555")));
    JsonNode span =
        zipkinSpans.stream()
            .filter(s -> s.at("/tags/guid:x-request-id").asText().startsWith("55555555"))
            .findFirst()
            .orElseThrow();
    assertThat(span.get("traceId").asText()).isEqualTo("80f198ee56343ba864fe8b2a57d3eff7");
    assertThat(span.get("parentId").asText()).isEqualTo("e457b5a2e4d86bd1"); // not shared
    assertThat(span.get("kind").asText()).isEqualTo("SERVER");
    assertThat(span.get("name").asText()).isEqualTo("zipkinapp.weather.svc.cluster.local:80/*");
    assertThat(span.at("/localEndpoint/serviceName").asText()).isEqualTo("zipkinapp.weather");
    assertThat(span.at("/tags/http.status_code").asText()).isEqualTo("200");
    assertThat(span.get("duration").asLong()).isPositive();
    Map<String, List<String>> seen = seenWith("55555555");
    assertThat(seen.get("X-b3-traceid")).containsExactly("80f198ee56343ba864fe8b2a57d3eff7");
    assertThat(seen.get("X-b3-spanid")).containsExactly(span.get("id").asText());
    assertThat(seen.get("X-b3-parentspanid")).containsExactly("e457b5a2e4d86bd1");
    assertThat(seen.get("X-b3-sampled")).containsExactly("1");
    assertThat(seen).doesNotContainKey("B3");
  }

  @Test
  void otlpOverHttpPostsProtobuf() throws Exception {
    String rid = "66666666-2222-4333-8444-555555555555";
    assertThat(get(otlpHttpPort, "/h", "x-request-id", rid).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> spansOf(httpSpans, rid).size() == 1);
    Span s = spansOf(httpSpans, rid).getFirst();
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(s.getParentSpanId().isEmpty()).isTrue(); // a new trace
    assertThat(serviceOf(httpSpans, s)).isEqualTo("httpapp.weather");
    // 100% random sampling marked the request id as sampled ('9')
    assertThat(attr(s, "guid:x-request-id")).isEqualTo("66666666-2222-9333-8444-555555555555");
    assertThat(seenWith("66666666").get("X-request-id").getFirst())
        .isEqualTo("66666666-2222-9333-8444-555555555555");
  }

  @Test
  void anInboundSidecarNamesItsSpanByTheCallersOperationAndReturnsItsOwn() throws Exception {
    String own = "77777777-2222-4333-8444-555555555555";
    var r = get(zipkinPort, "/own", "x-request-id", own);
    // no operation from the caller: the route's decorator names the span and goes back
    assertThat(r.headers().firstValue("x-envoy-decorator-operation"))
        .contains("zipkinapp.weather.svc.cluster.local:80/*");
    String called = "88888888-2222-4333-8444-555555555555";
    var c =
        get(
            zipkinPort,
            "/called",
            "x-request-id",
            called,
            "x-envoy-decorator-operation",
            "checkout");
    assertThat(c.statusCode()).isEqualTo(200);
    // the caller's operation names the span, is not passed to the app, and is not echoed back
    assertThat(seenWith("88888888")).doesNotContainKey("X-envoy-decorator-operation");
    assertThat(c.headers().firstValue("x-envoy-decorator-operation")).isEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                zipkinSpans.stream()
                    .anyMatch(
                        s -> s.at("/tags/guid:x-request-id").asText().startsWith("88888888")));
    JsonNode span =
        zipkinSpans.stream()
            .filter(s -> s.at("/tags/guid:x-request-id").asText().startsWith("88888888"))
            .findFirst()
            .orElseThrow();
    assertThat(span.get("name").asText()).isEqualTo("checkout");
  }

  @Test
  void tracingStatsCountWhyEachRequestIsOrIsNotTracedAsEnvoy() throws Exception {
    var sampled = proxies.get(2).stats().http("l").tracing(); // 100% random sampling
    var unsampled = proxies.get(1).stats().http("l").tracing(); // 0%
    long random = sampled.randomSampling().value();
    long forced = sampled.serviceForced().value();
    long client = sampled.clientEnabled().value();
    long notTraceable = unsampled.notTraceable().value();
    long forcedAtClient = unsampled.serviceForced().value();
    get(zipkinPort, "/s1");
    get(zipkinPort, "/s2");
    get(zipkinPort, "/f", "x-envoy-force-trace", "1", "x-forwarded-for", "10.0.0.1");
    get(zipkinPort, "/c", "x-client-trace-id", "abc");
    get(clientPort, "/n1");
    get(clientPort, "/n2");
    get(clientPort, "/n3");
    get(clientPort, "/f", "x-envoy-force-trace", "1", "x-forwarded-for", "10.0.0.1");
    assertThat(sampled.randomSampling().value() - random).isEqualTo(2);
    assertThat(sampled.serviceForced().value() - forced).isEqualTo(1);
    assertThat(sampled.clientEnabled().value() - client).isEqualTo(1);
    assertThat(unsampled.notTraceable().value() - notTraceable).isEqualTo(3);
    assertThat(unsampled.serviceForced().value() - forcedAtClient).isEqualTo(1);
    assertThat(sampled.healthCheck().value()).isZero();
    // Envoy's names on the admin's Prometheus page
    assertThat(proxies.get(2).stats().prometheus())
        .contains("envoy_http_tracing_random_sampling{envoy_http_conn_manager_prefix=\"l\"}");
  }
}
