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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bowline up -f samples/weather/mesh.yaml} meshed, as real processes: the control plane, a
 * sidecar per instance and the Weather apps. frontend's calls go app → its sidecar's HTTP_PROXY
 * listener on :15001 → {@code outbound|3002||forecast...} → forecast's sidecar inbound listener on
 * :3002 → the app on 13002; with no Istio routing, round robin over forecast v1 and v2.
 */
class MeshedUpIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private static final String FORECAST_V1 = "outbound|3002|v1|forecast.weather.svc.cluster.local";
  private static final String FRONTEND = TestNet.ip("127.0.0.170");
  private static final String FORECAST_V1_IP = TestNet.ip("127.0.0.171");
  private static final String FORECAST_V2 = TestNet.ip("127.0.0.172");

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A sidecar's counter from its admin {@code /stats} (Envoy's text format), 0 if absent. */
  private static long stat(String admin, String name) throws Exception {
    for (String line : get(admin + "/stats").body().lines().toList()) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  @Test
  void weatherRunsMeshedWithItsIstioConfigInForceAndStopsCleanly() throws Exception {
    MeshedWeather mesh = MeshedWeather.up(dir, FRONTEND, List.of());
    Process runner = mesh.runner;
    Path out = mesh.out;
    started.add(runner);
    String output = Files.readString(out);
    assertThat(output)
        .as(output)
        .doesNotContain("mesh: off")
        .contains("control plane: ready in")
        .contains("bowline up: 5 of 5 instances ready; Ctrl-C stops everything")
        .containsPattern(
            "weather/forecast-v2 +forecast-v2-0 +"
                + Pattern.quote(FORECAST_V2)
                + " +http-forecast:3002->13002");

    // The frontend's service port on its own address is its sidecar's inbound listener. Ready
    // means each process is up; on a loaded machine the first dashboard can still take a while
    // (connections, the apps' own start), so wait for one that works before counting.
    String dashboard = "http://" + FRONTEND + ":3000/api/dashboard?city=beijing";
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () -> {
              HttpResponse<String> d = get(dashboard);
              return d.statusCode() == 200
                  && JSON.readTree(d.body()).at("/forecast/ok").asBoolean()
                  && JSON.readTree(d.body()).at("/advertisement/ok").asBoolean();
            });
    // the counters from here on are this test's 40 requests (the warm-up may have added some)
    long frontendToV1 =
        stat("http://" + FRONTEND + ":15000", "cluster." + FORECAST_V1 + ".upstream_rq_2xx");
    long v1In =
        stat("http://" + FORECAST_V1_IP + ":15000", "cluster.inbound|13002||.upstream_rq_2xx");
    long v2In = stat("http://" + FORECAST_V2 + ":15000", "cluster.inbound|13002||.upstream_rq_2xx");
    Map<String, Integer> forecastVersions = new TreeMap<>();
    int recommendations = 0;
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> dash = get(dashboard);
      assertThat(dash.statusCode()).as(dash.body()).isEqualTo(200);
      JsonNode d = JSON.readTree(dash.body());
      assertThat(d.at("/forecast/ok").asBoolean()).as(dash.body()).isTrue();
      assertThat(d.at("/advertisement/ok").asBoolean()).as(dash.body()).isTrue();
      assertThat(d.at("/advertisement/instance").asText()).isEqualTo("advertisement-v1-0");
      String version = d.at("/forecast/version").asText();
      forecastVersions.merge(version, 1, Integer::sum);
      if (version.equals("v2")) {
        assertThat(d.at("/forecast/body/recommendation/ok").asBoolean()).as(dash.body()).isTrue();
        recommendations++;
      }
    }
    // samples/weather/config/base is in force (mesh.yaml lists it): its VirtualService sends every
    // forecast request to subset v1, so v2 (and with it recommendation) sees none.
    assertThat(forecastVersions).containsExactly(Map.entry("v1", 40));
    assertThat(recommendations).isZero();

    // The frontend's sidecar sent them on the v1 subset's outbound cluster; forecast v1's sidecar
    // received them on its inbound cluster, forwarded to the app's target port; v2's got nothing.
    assertThat(
            stat("http://" + FRONTEND + ":15000", "cluster." + FORECAST_V1 + ".upstream_rq_2xx")
                - frontendToV1)
        .isGreaterThanOrEqualTo(40);
    assertThat(
            stat("http://" + FORECAST_V1_IP + ":15000", "cluster.inbound|13002||.upstream_rq_2xx")
                - v1In)
        .isGreaterThanOrEqualTo(40);
    assertThat(stat("http://" + FORECAST_V2 + ":15000", "cluster.inbound|13002||.upstream_rq_2xx"))
        .isEqualTo(v2In)
        .isZero();
    // The ingress gateway (mesh.yaml's gateways, config/base/gateway.yaml) serves the frontend
    // on its address's port 8080 (127.0.0.1:8080 by default): Gateway port 80 is the gateway
    // Service's port, 8080 its target.
    String ingress = "http://" + MeshedWeather.CONTROL_PLANE + ":8080/";
    assertThat(output)
        .contains("ingress: " + ingress + " (gateway istio-system/istio-ingressgateway)");
    HttpResponse<String> viaIngress = get(ingress + "api/dashboard?city=beijing");
    assertThat(viaIngress.statusCode()).as(viaIngress.body()).isEqualTo(200);
    assertThat(JSON.readTree(viaIngress.body()).at("/frontend/instance").asText())
        .isEqualTo("frontend-v1-0");
    assertThat(Files.readString(dir.resolve("run/istio-ingressgateway-0.istio-system/gateway.log")))
        .doesNotContain("xds_nack");
    // No sidecar rejected the control plane's config.
    for (String instance :
        List.of(
            "frontend-v1-0",
            "forecast-v1-0",
            "forecast-v2-0",
            "advertisement-v1-0",
            "recommendation-v1-0")) {
      assertThat(Files.readString(dir.resolve("run/" + instance + ".weather/sidecar.log")))
          .as(instance)
          .doesNotContain("xds_nack");
    }

    // SIGTERM: apps, sidecars and the control plane all stop, none is left.
    List<ProcessHandle> family = runner.descendants().toList();
    assertThat(family).hasSizeGreaterThanOrEqualTo(12);
    runner.destroy();
    assertThat(runner.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(out))
        .contains("bowline up: stopped control-plane", "bowline up: stopped");
    // the runner waited for its children; the kernel may take a moment to report them gone
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(family).noneMatch(ProcessHandle::isAlive));
  }
}
