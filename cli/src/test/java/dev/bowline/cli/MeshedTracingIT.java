package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distributed tracing through the meshed Weather app: one page load through the ingress gateway
 * (with the canary cookie that routes forecast to v2) is one trace, exported over OTLP by every
 * proxy on its path to the control plane's receiver, in which the gateway, frontend, forecast v2
 * and recommendation spans are joined by correct parent/child links.
 */
class MeshedTracingIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @TempDir Path dir;
  private MeshedWeather mesh;

  @AfterEach
  void stop() {
    if (mesh != null) {
      mesh.kill();
    }
  }

  private static HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void onePageLoadIsOneTraceAcrossGatewayFrontendForecastV2AndRecommendation() throws Exception {
    mesh =
        MeshedWeather.up(
            dir,
            TestNet.ip("127.0.0.190"),
            List.of(MeshedWeather.ROOT.resolve("samples/weather/config/canary-header")));
    assertThat(mesh.output())
        .contains("traces: OTLP " + MeshedWeather.CONTROL_PLANE + ":4317, sampled 100.0%");
    String api = "http://" + MeshedWeather.CONTROL_PLANE + ":15014/api/traces";

    // Ready means each process is up; on a loaded machine the gateway and the canary route can
    // still be on their way. Warm up until a page load with the cookie reaches forecast v2; those
    // page loads are traces too, told apart from the one under test by their URL.
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () -> {
              HttpResponse<String> w =
                  get(
                      "http://"
                          + MeshedWeather.CONTROL_PLANE
                          + ":8080/api/dashboard?city=beijing&warmup=1",
                      "cookie",
                      "user=tester");
              JsonNode d = JSON.readTree(w.body());
              return w.statusCode() == 200
                  && d.at("/forecast/ok").asBoolean()
                  && d.at("/forecast/version").asText().equals("v2");
            });
    HttpResponse<String> page =
        get(
            "http://" + MeshedWeather.CONTROL_PLANE + ":8080/api/dashboard?city=beijing",
            "cookie",
            "user=tester");
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    JsonNode dash = JSON.readTree(page.body());
    assertThat(dash.at("/forecast/ok").asBoolean()).as(page.body()).isTrue();

    // The spans arrive within the reporters' 1 s flush (longer on a loaded machine); wait for the
    // deepest one of the page load under test (not a warm-up's: its gateway span has no warmup).
    String[] traceId = new String[1];
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () -> {
              for (JsonNode t : JSON.readTree(get(api + "?limit=20").body()).get("traces")) {
                JsonNode spans =
                    JSON.readTree(get(api + "/" + t.get("traceId").asText()).body()).get("spans");
                boolean underTest = false;
                boolean deepest = false;
                for (JsonNode s : spans) {
                  if (s.get("service").asText().equals("istio-ingressgateway.istio-system")) {
                    underTest = !s.at("/attributes/http.url").asText().contains("warmup");
                  }
                  deepest |=
                      s.get("service").asText().equals("recommendation.weather")
                          && s.get("kind").asText().equals("SERVER");
                }
                if (underTest && deepest) {
                  traceId[0] = t.get("traceId").asText();
                  return true;
                }
              }
              return false;
            });
    // give the slower reporters (the gateway's span ends last) their flush too: the gateway,
    // frontend in and its two calls out, forecast in and out, recommendation in, advertisement in
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> JSON.readTree(get(api + "/" + traceId[0]).body()).get("spans").size() >= 8);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "spans of " + traceId[0] + ": " + get(api + "/" + traceId[0]).body(), e);
    }
    JsonNode spans = JSON.readTree(get(api + "/" + traceId[0]).body()).get("spans");
    Map<String, JsonNode> byId = new HashMap<>();
    List<JsonNode> all = new ArrayList<>();
    spans.forEach(
        s -> {
          byId.put(s.get("spanId").asText(), s);
          all.add(s);
        });

    // One root: the gateway's (client) span of the page load; everything else hangs below it.
    List<JsonNode> roots =
        all.stream().filter(s -> s.get("parentSpanId").asText().isEmpty()).toList();
    assertThat(roots).as(spans.toPrettyString()).hasSize(1);
    JsonNode gateway = roots.getFirst();
    assertThat(gateway.get("service").asText()).isEqualTo("istio-ingressgateway.istio-system");
    assertThat(gateway.get("kind").asText()).isEqualTo("CLIENT");
    for (JsonNode s : all) {
      if (s != gateway) {
        assertThat(byId).as("parent of " + s).containsKey(s.get("parentSpanId").asText());
      }
    }

    JsonNode frontendIn = only(all, "frontend.weather", "SERVER", null);
    assertThat(parent(byId, frontendIn)).isSameAs(gateway);
    JsonNode frontendToForecast =
        only(all, "frontend.weather", "CLIENT", "forecast.weather.svc.cluster.local");
    assertThat(parent(byId, frontendToForecast)).isSameAs(frontendIn);
    JsonNode forecastIn = only(all, "forecast.weather", "SERVER", null);
    assertThat(parent(byId, forecastIn)).isSameAs(frontendToForecast);
    assertThat(forecastIn.at("/attributes/node_id").asText()).contains("forecast-v2");
    assertThat(forecastIn.at("/attributes/istio.canonical_revision").asText()).isEqualTo("v2");
    assertThat(forecastIn.get("name").asText())
        .isEqualTo("forecast.weather.svc.cluster.local:3002/*");
    // Envoy: the client's route decorator crosses the call in x-envoy-decorator-operation, so the
    // two halves of a call carry one operation name
    assertThat(frontendToForecast.get("name").asText()).isEqualTo(forecastIn.get("name").asText());
    JsonNode forecastToRecommendation =
        only(all, "forecast.weather", "CLIENT", "recommendation.weather.svc.cluster.local");
    assertThat(parent(byId, forecastToRecommendation)).isSameAs(forecastIn);
    JsonNode recommendationIn = only(all, "recommendation.weather", "SERVER", null);
    assertThat(parent(byId, recommendationIn)).isSameAs(forecastToRecommendation);
    JsonNode frontendToAd =
        only(all, "frontend.weather", "CLIENT", "advertisement.weather.svc.cluster.local");
    assertThat(parent(byId, frontendToAd)).isSameAs(frontendIn);
    assertThat(only(all, "advertisement.weather", "SERVER", null).get("parentSpanId").asText())
        .isEqualTo(frontendToAd.get("spanId").asText());
    for (JsonNode s : all) {
      assertThat(s.at("/attributes/http.status_code").asText()).as(s.toString()).isEqualTo("200");
      assertThat(s.at("/attributes/guid:x-request-id").asText())
          .isEqualTo(gateway.at("/attributes/guid:x-request-id").asText());
    }
    // The summary the dashboard lists.
    JsonNode summary = null;
    for (JsonNode t : JSON.readTree(get(api + "?limit=200").body()).get("traces")) {
      if (t.get("traceId").asText().equals(traceId[0])) {
        summary = t;
      }
    }
    assertThat(summary).isNotNull();
    assertThat(summary.get("rootService").asText()).isEqualTo("istio-ingressgateway.istio-system");
    assertThat(summary.get("spanCount").asInt()).isEqualTo(all.size());
    assertThat(summary.get("error").asBoolean()).isFalse();
    assertThat(Files.readString(dir.resolve("run/control-plane.log")))
        .doesNotContain("otlp_receiver_failed");
    mesh.close();
    mesh = null;
  }

  private static JsonNode parent(Map<String, JsonNode> byId, JsonNode s) {
    return byId.get(s.get("parentSpanId").asText());
  }

  /** The one span of {@code service} and {@code kind} (to {@code cluster}'s service if given). */
  private static JsonNode only(List<JsonNode> all, String service, String kind, String upstream) {
    List<JsonNode> m =
        all.stream()
            .filter(s -> s.get("service").asText().equals(service))
            .filter(s -> s.get("kind").asText().equals(kind))
            .filter(
                s ->
                    upstream == null
                        || s.at("/attributes/upstream_cluster").asText().endsWith("|" + upstream))
            .toList();
    assertThat(m).as(service + " " + kind + " " + upstream + " in " + all).hasSize(1);
    return m.getFirst();
  }
}
