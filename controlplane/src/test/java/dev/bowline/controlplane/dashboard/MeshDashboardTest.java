package dev.bowline.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard over real sockets: a control plane with its config feed and registry, a proxy
 * connected over ADS whose stats endpoint (a plain HTTP server standing in for the proxy's {@code
 * :15090}, the edge of the system) changes between two scrapes, and the JSON API and page read with
 * an HTTP client.
 */
class MeshDashboardTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();

  @TempDir Path config;
  final LocalRegistry registry = new LocalRegistry("cluster.local");
  final AtomicReference<String> stats = new AtomicReference<>("");
  final List<AutoCloseable> closers = new ArrayList<>();
  HttpServer statsServer;
  ControlPlane cp;
  MeshDashboard dashboard;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    statsServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    statsServer.createContext(
        "/stats/prometheus",
        ex -> {
          byte[] body = stats.get().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    statsServer.start();
    service("frontend", 3000);
    service("forecast", 3002);
    workload("frontend-v1-0", "frontend", "v1", "127.0.0.1");
    workload("forecast-v1-0", "forecast", "v1", "127.0.0.3");
    workload("forecast-v2-0", "forecast", "v2", "127.0.0.4");
    Files.writeString(
        config.resolve("weather.yaml"),
        """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http: [{route: [{destination: {host: forecast, subset: v1}}]}]
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: DestinationRule
        metadata: {name: forecast, namespace: weather}
        spec:
          host: forecast
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: Sidecar
        metadata: {name: default, namespace: weather}
        spec:
          egress: [{hosts: ["./*"]}]
        ---
        apiVersion: security.istio.io/v1beta1
        kind: PeerAuthentication
        metadata: {name: forecast-only, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          mtls: {mode: STRICT}
        """);
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    ConfigFeed feed = ConfigFeed.start(cp, List.of(config), Clock.systemUTC());
    closers.add(feed);
    // A long interval: the test drives the scrapes itself.
    dashboard =
        MeshDashboard.start(
            cp,
            () -> feed.store().snapshot(),
            new DashboardOptions(
                Duration.ofMinutes(10),
                Duration.ofMinutes(30),
                Duration.ofSeconds(2),
                statsServer.getAddress().getPort()),
            Clock.systemUTC());
    cp.start();
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", cp.xdsPort(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    dashboard.close();
    for (AutoCloseable c : closers) {
      c.close();
    }
    cp.close();
    statsServer.stop(0);
  }

  void service(String name, int port) {
    registry.putService(
        new LocalService(
            "weather",
            name,
            List.of(new ServicePort("http", port, Protocol.HTTP, port)),
            Map.of("app", name),
            Map.of()));
  }

  void workload(String name, String app, String version, String ip) {
    registry.putWorkload(
        new Workload(
            "weather",
            name,
            Map.of("app", app, "version", version),
            ip,
            Map.of(),
            app,
            Locality.NONE,
            "",
            HealthStatus.HEALTHY));
  }

  /** frontend v1's sidecar on 127.0.0.1, connected over ADS (it asks for clusters). */
  void connectFrontendSidecar() throws Exception {
    Struct labels =
        Struct.newBuilder()
            .putFields("app", Value.newBuilder().setStringValue("frontend").build())
            .putFields("version", Value.newBuilder().setStringValue("v1").build())
            .build();
    Node node =
        Node.newBuilder()
            .setId("sidecar~127.0.0.1~frontend-v1-0.weather~weather.svc.cluster.local")
            .setMetadata(
                Struct.newBuilder()
                    .putFields("NAMESPACE", Value.newBuilder().setStringValue("weather").build())
                    .putFields("LABELS", Value.newBuilder().setStructValue(labels).build()))
            .build();
    StreamObserver<DiscoveryRequest> requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<DiscoveryResponse>() {
                  @Override
                  public void onNext(DiscoveryResponse value) {}

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(
        DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(TypeUrls.CLUSTER).build());
    closers.add(requests::onCompleted);
    await().atMost(Duration.ofSeconds(5)).until(() -> cp.xds().connectedProxies().size() == 1);
  }

  /** frontend v1's sidecar's report of its calls to forecast v1 and v2 (Istio's labels). */
  static String frontendStats(int toV1, int toV2, int v2Failed) {
    StringBuilder sb = new StringBuilder("# TYPE istio_requests_total counter\n");
    sb.append(series("istio_requests_total", "v1", "200", ""))
        .append(' ')
        .append(toV1)
        .append('\n');
    sb.append(series("istio_requests_total", "v2", "200", ""))
        .append(' ')
        .append(toV2)
        .append('\n');
    sb.append(series("istio_requests_total", "v2", "503", ""))
        .append(' ')
        .append(v2Failed)
        .append('\n');
    for (String v : List.of("v1", "v2")) {
      long n = v.equals("v1") ? toV1 : toV2 + v2Failed;
      sb.append(series("istio_request_duration_milliseconds_bucket", v, "200", ",le=\"5\""))
          .append(" 0\n");
      sb.append(series("istio_request_duration_milliseconds_bucket", v, "200", ",le=\"10\""))
          .append(' ')
          .append(n)
          .append('\n');
      sb.append(series("istio_request_duration_milliseconds_bucket", v, "200", ",le=\"+Inf\""))
          .append(' ')
          .append(n)
          .append('\n');
    }
    return sb.append("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"x\"} 99\n").toString();
  }

  static String series(String name, String version, String code, String le) {
    return name
        + "{reporter=\"source\",source_workload=\"frontend-v1\",source_workload_namespace=\"weather\","
        + "source_canonical_service=\"frontend\",source_canonical_revision=\"v1\","
        + "destination_workload=\"forecast-"
        + version
        + "\",destination_workload_namespace=\"weather\",destination_canonical_service=\"forecast\","
        + "destination_canonical_revision=\""
        + version
        + "\",destination_service=\"forecast.weather.svc.cluster.local\","
        + "destination_service_name=\"forecast\",request_protocol=\"http\",response_code=\""
        + code
        + "\""
        + le
        + "}";
  }

  HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.monitoringPort() + path))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  JsonNode json(String path) throws Exception {
    HttpResponse<String> r = get(path);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    return JSON.readTree(r.body());
  }

  static JsonNode find(JsonNode array, String field, String value) {
    for (JsonNode n : array) {
      if (n.path(field).asText().equals(value)) {
        return n;
      }
    }
    throw new AssertionError("no " + field + "=" + value + " in " + array);
  }

  @Test
  void graphAndDetailsFromTwoScrapesOfAConnectedProxy() throws Exception {
    JsonNode before = json("/api/graph");
    assertThat(before.path("edges")).isEmpty();
    assertThat(before.path("nodes").findValuesAsText("id"))
        .as("the registry's workloads are nodes before any traffic")
        .contains("weather/frontend/v1", "weather/forecast/v1", "weather/forecast/v2");

    connectFrontendSidecar();
    stats.set(frontendStats(100, 10, 0));
    dashboard.scraper().scrapeOnce();
    stats.set(frontendStats(180, 28, 2));
    dashboard.scraper().scrapeOnce();

    JsonNode g = json("/api/graph");
    JsonNode target = g.path("targets").get(0);
    assertThat(target.path("url").asText())
        .isEqualTo("http://127.0.0.1:" + statsServer.getAddress().getPort() + "/stats/prometheus");
    assertThat(target.path("ok").asBoolean()).isTrue();
    assertThat(target.path("proxy").asText()).startsWith("sidecar~127.0.0.1~frontend-v1-0");
    JsonNode v1 = find(g.path("edges"), "target", "weather/forecast/v1");
    JsonNode v2 = find(g.path("edges"), "target", "weather/forecast/v2");
    assertThat(v1.path("source").asText()).isEqualTo("weather/frontend/v1");
    assertThat(v1.path("requests").asLong()).isEqualTo(80);
    assertThat(v2.path("requests").asLong()).isEqualTo(20);
    assertThat(v1.path("rps").asDouble()).isPositive();
    assertThat(v2.path("rps").asDouble() / v1.path("rps").asDouble()).isCloseTo(0.25, within(0.01));
    assertThat(v2.path("errorRate").asDouble()).isEqualTo(0.1);
    assertThat(v1.path("errorRate").asDouble()).isZero();
    assertThat(v1.path("p50Ms").asDouble()).isEqualTo(7.5); // all in (5, 10]: 5 + 5 * 0.5
    assertThat(v1.path("reporter").asText()).isEqualTo("source");
    JsonNode frontend = find(g.path("nodes"), "id", "weather/frontend/v1");
    assertThat(frontend.path("proxies").get(0).asText()).startsWith("sidecar~127.0.0.1~");
    assertThat(frontend.path("kind").asText()).isEqualTo("workload");
    JsonNode forecastV2 = find(g.path("nodes"), "id", "weather/forecast/v2");
    assertThat(forecastV2.path("inbound").path("requests").asLong()).isEqualTo(20);
    assertThat(forecastV2.path("workloads").get(0).asText()).isEqualTo("forecast-v2");

    JsonNode svc = json("/api/services/weather/forecast");
    assertThat(svc.path("hostname").asText()).isEqualTo("forecast.weather.svc.cluster.local");
    assertThat(
            find(svc.path("versions"), "version", "v2").path("traffic").path("requests").asLong())
        .isEqualTo(20);
    assertThat(find(svc.path("versions"), "version", "v1").path("endpoints").get(0).asText())
        .isEqualTo("127.0.0.3:3002");
    assertThat(svc.path("inbound")).hasSize(2);

    JsonNode w = json("/api/workloads/weather/frontend/v1");
    assertThat(w.path("outbound")).hasSize(2);
    List<String> applied = new ArrayList<>();
    w.path("config")
        .forEach(
            c ->
                applied.add(
                    c.path("kind").asText()
                        + " "
                        + c.path("namespace").asText()
                        + "/"
                        + c.path("name").asText()
                        + ": "
                        + c.path("why").asText()));
    assertThat(applied)
        .containsExactlyInAnyOrder(
            "Sidecar weather/default: namespace-wide (no selector)",
            "VirtualService weather/forecast: routes its calls to forecast.weather.svc.cluster.local",
            "DestinationRule weather/forecast: traffic policy of its calls to"
                + " forecast.weather.svc.cluster.local");
    String dump = w.path("proxyDetails").get(0).path("configDump").asText();
    assertThat(get(dump).statusCode()).isEqualTo(200);
    JsonNode forecast = json("/api/workloads/weather/forecast/v2");
    assertThat(forecast.findValuesAsText("name")).contains("forecast-only");

    assertThat(get("/api/workloads/weather/nothing/v9").statusCode()).isEqualTo(404);
    assertThat(get("/api/services/weather").statusCode()).isEqualTo(400);
  }

  @Test
  void aProxyThatDoesNotAnswerIsReportedAndTheOthersStay() throws Exception {
    connectFrontendSidecar();
    stats.set("istio_requests_total{reporter=\"source\" 1\n");
    dashboard.scraper().scrapeOnce();
    JsonNode t = json("/api/graph").path("targets").get(0);
    assertThat(t.path("ok").asBoolean()).isFalse();
    assertThat(t.path("error").asText())
        .isEqualTo("line 1: istio_requests_total: expected ',' or '}' after label reporter");
  }

  @Test
  void servesThePageAndItsModulesAndNothingElse() throws Exception {
    HttpResponse<String> index = get("/dashboard/");
    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(index.body()).contains("<script type=\"module\" src=\"app.js\">");
    for (String module :
        List.of(
            "app.js",
            "api.js",
            "graph.js",
            "layout.js",
            "details.js",
            "traces.js",
            "waterfall.js",
            "format.js")) {
      HttpResponse<String> r = get("/dashboard/" + module);
      assertThat(r.statusCode()).as(module).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
    }
    assertThat(get("/dashboard/style.css").statusCode()).isEqualTo(200);
    assertThat(get("/dashboard/missing.js").statusCode()).isEqualTo(404);
    assertThat(get("/dashboardx").statusCode()).isEqualTo(404);
    assertThat(get("/dashboard/..%2Fdashboard%2FMeshDashboard.class").statusCode()).isEqualTo(404);
    HttpResponse<String> bare = get("/dashboard");
    assertThat(bare.statusCode()).isEqualTo(302);
    assertThat(bare.headers().firstValue("Location")).hasValue("/dashboard/");
    assertThat(get("/api/traces?limit=5").statusCode())
        .as("traces belong to the OTLP receiver; without it the page shows its empty state")
        .isEqualTo(404);
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }
}
