package dev.bowline.controlplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bowline.api.Kind;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.model.VirtualService;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /config/apply} and {@code /config/delete} on a running control plane's monitoring
 * port, over real HTTP, against a config store also fed by a watched directory.
 */
class ConfigApiTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final ResourceKey FORECAST = new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", "forecast");

  static String forecast(int v1, int v2) {
    return """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
          - route:
            - {destination: {host: forecast, subset: v1}, weight: %d}
            - {destination: {host: forecast, subset: v2}, weight: %d}
        """
        .formatted(v1, v2);
  }

  static final String ADS =
      """
      apiVersion: networking.istio.io/v1beta1
      kind: VirtualService
      metadata: {name: advertisement, namespace: weather}
      spec:
        hosts: [advertisement]
        http:
        - route: [{destination: {host: advertisement}}]
      """;

  @TempDir Path dir;
  ControlPlane cp;
  ConfigFeed feed;
  final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("forecast.yaml"), forecast(100, 0));
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS.withPorts(0, 0),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(cp, List.of(dir), Clock.systemUTC());
    cp.start();
  }

  @AfterEach
  void stop() {
    feed.close();
    cp.close();
  }

  HttpResponse<String> post(String path, String contentType, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.monitoringPort() + path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String files(Map<String, String> files) throws Exception {
    var root = JSON.createObjectNode();
    var list = root.putArray("files");
    files.forEach((name, content) -> list.addObject().put("name", name).put("content", content));
    return JSON.writeValueAsString(root);
  }

  int v2Weight() {
    var vs = feed.store().get(FORECAST).orElseThrow().as(VirtualService.class).orElseThrow();
    return vs.spec().http().getFirst().route().get(1).weight();
  }

  @Test
  void applyTakesPrecedenceOverTheDirectoryAndReapplyingIsUnchanged() throws Exception {
    assertThat(v2Weight()).isZero();
    HttpResponse<String> r =
        post(
            "/config/apply",
            "application/json",
            files(Map.of("canary/forecast.yaml", forecast(80, 20), "ads.yaml", ADS)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode a = JSON.readTree(r.body());
    assertThat(a.get("applied"))
        .extracting(JsonNode::asText)
        .containsExactlyInAnyOrder(
            "VirtualService weather/forecast", "VirtualService weather/advertisement");
    assertThat(v2Weight()).isEqualTo(20);

    // Raw YAML works too (curl --data-binary @file.yaml).
    r = post("/config/apply", "application/yaml", forecast(80, 20));
    assertThat(JSON.readTree(r.body()).get("unchanged"))
        .extracting(JsonNode::asText)
        .containsExactly("VirtualService weather/forecast");
  }

  @Test
  void oneInvalidResourceRefusesTheWholeApplyNamingResourceAndField() throws Exception {
    HttpResponse<String> r =
        post(
            "/config/apply",
            "application/json",
            files(Map.of("bad.yaml", forecast(80, -20) + "---\n" + ADS)));
    assertThat(r.statusCode()).isEqualTo(422);
    JsonNode a = JSON.readTree(r.body());
    assertThat(a.get("errors"))
        .extracting(JsonNode::asText)
        .containsExactly(
            "VirtualService weather/forecast: spec.http[0].route[1].weight: must not be negative");
    assertThat(a.get("applied")).isEmpty();
    // Nothing of the request is in force: the directory's forecast stays, advertisement is absent.
    assertThat(v2Weight()).isZero();
    assertThat(feed.store().get(new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", "advertisement")))
        .isEmpty();

    r = post("/config/apply", "application/json", files(Map.of("x.yaml", "kind: Nonsense\n")));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(JSON.readTree(r.body()).get("errors").get(0).asText()).contains("x.yaml");
  }

  @Test
  void deleteRemovesWhatTheDocumentsNameAndSaysWhatWasNotThere() throws Exception {
    HttpResponse<String> r =
        post("/config/delete", "application/yaml", forecast(1, 1) + "---\n" + ADS);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode a = JSON.readTree(r.body());
    assertThat(a.get("deleted"))
        .extracting(JsonNode::asText)
        .containsExactly("VirtualService weather/forecast");
    assertThat(a.get("notFound"))
        .extracting(JsonNode::asText)
        .containsExactly("VirtualService weather/advertisement");
    assertThat(feed.store().get(FORECAST)).isEmpty();

    HttpResponse<String> get =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + cp.monitoringPort() + "/config/apply"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
  }
}
