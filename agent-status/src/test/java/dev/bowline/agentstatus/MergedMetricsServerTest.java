package dev.bowline.agentstatus;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** :15020 merging the proxy's and the app's metrics over real sockets, as pilot-agent does. */
class MergedMetricsServerTest {
  private static HttpServer serving(String path, String body) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    s.createContext(
        path,
        ex -> {
          byte[] b = body.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    s.start();
    return s;
  }

  private static URI uri(HttpServer s, String path) {
    return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + path);
  }

  private static HttpResponse<String> scrape(MergedMetricsServer m) throws Exception {
    try (HttpClient c = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build()) {
      return c.send(
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + m.port() + MergedMetricsServer.PATH))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void oneScrapeCarriesTheProxysAndTheAppsMetrics() throws Exception {
    HttpServer envoy =
        serving(
            "/stats/prometheus",
            "# TYPE istio_requests_total counter\nistio_requests_total{reporter=\"destination\"} 7\n");
    HttpServer app = serving("/metrics", "# TYPE weather_lookups counter\nweather_lookups 3");
    try (MergedMetricsServer m =
        MergedMetricsServer.start(
            new InetSocketAddress("127.0.0.1", 0),
            uri(envoy, "/stats/prometheus"),
            Optional.of(uri(app, "/metrics")))) {
      HttpResponse<String> r = scrape(m);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body())
          .contains("istio_requests_total{reporter=\"destination\"} 7\n")
          .contains("weather_lookups 3\n")
          .contains("istio_agent_scrapes_total 1\n")
          .contains("istio_agent_scrape_failures_total{type=\"application\"} 0\n");

      app.stop(0); // the app goes away: the proxy's part stays, the failure is counted
      r = scrape(m);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body())
          .contains("istio_requests_total{reporter=\"destination\"} 7\n")
          .doesNotContain("weather_lookups")
          .contains("istio_agent_scrape_failures_total{type=\"application\"} 1\n");

      envoy.stop(0); // without the proxy's metrics there is no answer
      r = scrape(m);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).startsWith("failed to scrape the proxy's metrics at http://127.0.0.1:");
    } finally {
      envoy.stop(0);
      app.stop(0);
    }
  }
}
