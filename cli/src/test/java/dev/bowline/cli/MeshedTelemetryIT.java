package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's standard metrics from the meshed Weather app: after N dashboards, the sidecars' {@code
 * :15090/stats/prometheus} show exactly the expected {@code istio_requests_total} series, from both
 * reporters, with workload and version labels learned by metadata exchange; and a real Prometheus
 * (Debian's {@code prometheus}, when installed) scraping the sidecars answers Istio's PromQL.
 */
class MeshedTelemetryIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private static final int N = 25;
  private static final String FRONTEND = TestNet.ip("127.0.0.180");
  private static final String FORECAST_V1 = TestNet.ip("127.0.0.181");
  private static final String FORECAST_V2 = TestNet.ip("127.0.0.182");
  private static final String ADVERTISEMENT = TestNet.ip("127.0.0.183");

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String metrics(String ip) throws Exception {
    HttpResponse<String> r = get("http://" + ip + ":15090/stats/prometheus");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** Sum of {@code metric} over the series whose labels include all of {@code labels}. */
  static long sum(String text, String metric, Map<String, String> labels) {
    long total = 0;
    Matcher m = Pattern.compile("(?m)^" + metric + "\\{([^}]*)\\} (\\S+)$").matcher(text);
    while (m.find()) {
      String l = m.group(1);
      if (labels.entrySet().stream()
          .allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\""))) {
        total += Long.parseLong(m.group(2));
      }
    }
    return total;
  }

  @Test
  void sidecarsCountEveryCallWithIstiosLabelsAndPrometheusAnswersIstiosQuery() throws Exception {
    // The Weather mesh as samples/weather/mesh.yaml has it, plus one mesh-wide Telemetry resource
    // turning on access logs with Istio's "envoy" provider (/dev/stdout: the sidecars' logs).
    Path telemetry = Files.createDirectories(dir.resolve("telemetry"));
    Files.writeString(
        telemetry.resolve("telemetry.yaml"),
        """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: mesh-default, namespace: istio-system}
        spec:
          accessLogging: [{providers: [{name: envoy}]}]
        """);
    MeshedWeather mesh = MeshedWeather.up(dir, FRONTEND, List.of(telemetry));
    Process runner = mesh.runner;
    started.add(runner);

    Process prometheus = startPrometheus();

    for (int i = 0; i < N; i++) {
      if (i == 5 && prometheus != null) {
        // Let Prometheus see the series before the rest, so rate() has a rise to measure.
        await()
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(
                () ->
                    query("istio_requests_total{destination_service_name=\"forecast\"}")
                            .at("/data/result")
                            .size()
                        > 0);
      }
      HttpResponse<String> dash = get("http://" + FRONTEND + ":3000/api/dashboard?city=beijing");
      assertThat(dash.statusCode()).as(dash.body()).isEqualTo(200);
      JsonNode d = JSON.readTree(dash.body());
      assertThat(d.at("/forecast/ok").asBoolean()).as(dash.body()).isTrue();
    }

    // The client side: frontend's sidecar reports every call to forecast v1 (config/base routes
    // all of them there) and to advertisement, with the peers it learned by metadata exchange.
    String frontend = metrics(FRONTEND);
    Map<String, String> toForecast =
        Map.ofEntries(
            Map.entry("reporter", "source"),
            Map.entry("source_workload", "frontend-v1"),
            Map.entry("source_workload_namespace", "weather"),
            Map.entry("source_app", "frontend"),
            Map.entry("source_version", "v1"),
            Map.entry("destination_workload", "forecast-v1"),
            Map.entry("destination_workload_namespace", "weather"),
            Map.entry("destination_app", "forecast"),
            Map.entry("destination_version", "v1"),
            Map.entry("destination_service", "forecast.weather.svc.cluster.local"),
            Map.entry("destination_service_name", "forecast"),
            Map.entry("destination_service_namespace", "weather"),
            Map.entry("request_protocol", "http"),
            Map.entry("response_code", "200"),
            Map.entry("response_flags", "-"),
            // the sidecars talk Istio mTLS: both identities from the upstream connection; the
            // client side's policy is unknown, as istio-proxy's outbound side never sets it
            Map.entry("source_principal", "spiffe://cluster.local/ns/weather/sa/frontend"),
            Map.entry("destination_principal", "spiffe://cluster.local/ns/weather/sa/forecast"),
            Map.entry("connection_security_policy", "unknown"));
    assertThat(sum(frontend, "istio_requests_total", toForecast)).as(frontend).isEqualTo(N);
    assertThat(
            sum(
                frontend,
                "istio_requests_total",
                Map.of("reporter", "source", "destination_service_name", "forecast")))
        .as("every call to forecast is in that one series")
        .isEqualTo(N);
    assertThat(
            sum(
                frontend,
                "istio_requests_total",
                Map.of(
                    "reporter", "source",
                    "destination_workload", "advertisement-v1",
                    "destination_service_name", "advertisement",
                    "response_code", "200")))
        .isEqualTo(N);
    assertThat(
            sum(
                frontend,
                "istio_request_duration_milliseconds_count",
                Map.of("reporter", "source", "destination_workload", "forecast-v1")))
        .isEqualTo(N);

    // pilot-agent's merged endpoint on :15020 carries the same series.
    HttpResponse<String> merged = get("http://" + FRONTEND + ":15020/stats/prometheus");
    assertThat(merged.statusCode()).isEqualTo(200);
    assertThat(sum(merged.body(), "istio_requests_total", toForecast)).isEqualTo(N);
    assertThat(merged.body()).contains("istio_agent_scrapes_total ");

    // The server side: forecast v1's sidecar reports the same calls as destination; v2 saw none.
    String v1 = metrics(FORECAST_V1);
    assertThat(
            sum(
                v1,
                "istio_requests_total",
                Map.of(
                    "reporter", "destination",
                    "source_workload", "frontend-v1",
                    "source_version", "v1",
                    "destination_workload", "forecast-v1",
                    "destination_version", "v1",
                    "destination_service_name", "forecast",
                    "response_code", "200",
                    "source_principal", "spiffe://cluster.local/ns/weather/sa/frontend",
                    "destination_principal", "spiffe://cluster.local/ns/weather/sa/forecast",
                    "connection_security_policy", "mutual_tls")))
        .as(v1)
        .isEqualTo(N);
    assertThat(
            sum(
                metrics(FORECAST_V2),
                "istio_requests_total",
                Map.of("reporter", "destination", "source_workload", "frontend-v1")))
        .isZero();
    assertThat(
            sum(
                metrics(ADVERTISEMENT),
                "istio_requests_total",
                Map.of("reporter", "destination", "source_workload", "frontend-v1")))
        .isEqualTo(N);

    // Access logs in Istio's text format: client side on frontend's sidecar, server side on
    // forecast v1's, each call with its code, flags and cluster.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(
            () -> {
              assertThat(
                      Files.readAllLines(dir.resolve("run/frontend-v1-0.weather/sidecar.log"))
                          .stream()
                          .filter(
                              l ->
                                  l.matches(
                                      "\\[.*Z\\] \"GET /\\S* HTTP/1.1\" 200 - .*"
                                          + " outbound\\|3002\\|v1\\|forecast\\.weather\\.svc\\.cluster\\.local .*"))
                          .count())
                  .isEqualTo(N);
              assertThat(
                      Files.readAllLines(dir.resolve("run/forecast-v1-0.weather/sidecar.log"))
                          .stream()
                          .filter(
                              l ->
                                  l.matches(
                                      "\\[.*Z\\] \"GET /(?!health)\\S* HTTP/1.1\" 200 - .* inbound\\|13002\\|\\| .*"))
                          .count())
                  .isEqualTo(N);
            });

    if (prometheus != null) {
      // Istio's canary query, answered by a real Prometheus that scraped the sidecars.
      String q =
          "sum(rate(istio_requests_total{destination_service_name=\"forecast\"}[1m])) by"
              + " (destination_version)";
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                JsonNode r = query(q);
                assertThat(r.at("/status").asText()).isEqualTo("success");
                JsonNode result = r.at("/data/result");
                assertThat(result.size()).as(r.toString()).isEqualTo(1);
                assertThat(result.get(0).at("/metric/destination_version").asText())
                    .isEqualTo("v1");
                assertThat(Double.parseDouble(result.get(0).at("/value/1").asText())).isPositive();
              });
      JsonNode total =
          query(
              "sum(istio_requests_total{reporter=\"source\",destination_service_name=\"forecast\"})");
      assertThat(total.at("/data/result/0/value/1").asText()).isEqualTo(Integer.toString(N));
      prometheus.destroy();
      prometheus.waitFor(10, TimeUnit.SECONDS);
    }

    mesh.close();
  }

  private int prometheusPort;

  private JsonNode query(String promql) throws Exception {
    return JSON.readTree(
        get("http://127.0.0.1:"
                + prometheusPort
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8))
            .body());
  }

  /** Debian's Prometheus scraping the five sidecars every second, or null when not installed. */
  private Process startPrometheus() throws Exception {
    Path bin = Path.of("/usr/bin/prometheus");
    if (!Files.isExecutable(bin)) {
      System.err.println("MeshedTelemetryIT: prometheus not installed, PromQL part skipped");
      return null;
    }
    prometheusPort = TestNet.freePort("127.0.0.1");
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
        - job_name: envoy-stats
          metrics_path: /stats/prometheus
          static_configs:
          - targets: ['%s:15020', '%s:15020', '%s:15020', '%s:15020', '%s:15020']
        """
            .formatted(
                FRONTEND, FORECAST_V1, FORECAST_V2, ADVERTISEMENT, TestNet.ip("127.0.0.184")));
    Process p =
        new ProcessBuilder(
                bin.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    started.add(p);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(300))
        .ignoreExceptions()
        .until(() -> get("http://127.0.0.1:" + prometheusPort + "/-/ready").statusCode() == 200);
    // one scrape before the traffic, so rate() has a start
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(() -> query("up{job=\"envoy-stats\"} == 1").at("/data/result").size() == 5);
    return p;
  }
}
