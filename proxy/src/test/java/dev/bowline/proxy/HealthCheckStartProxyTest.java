package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy starts a cluster's active health checks when the cluster initialises ({@code
 * ClusterImplBase::onPreInitComplete} starts its health checker), not when it takes its first
 * request: with no traffic at all, each endpoint is probed and a failing one is marked in {@code
 * /clusters}. Real sockets: two backends that record what they are asked, a proxy on one worker.
 */
class HealthCheckStartProxyTest {
  static final String IP = "127.0.7.84";
  static final String GOOD_IP = "127.0.7.85";
  static final String BAD_IP = "127.0.7.86";
  static final String CHECK =
      """
      health_checks:
      - timeout: 1s
        interval: 0.2s
        unhealthy_threshold: 2
        healthy_threshold: 1
        http_health_check: {path: /healthz}
      """;

  private final List<HttpServer> backends = new CopyOnWriteArrayList<>();
  private SocketProxy proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    backends.forEach(b -> b.stop(0));
  }

  /**
   * A backend on {@code ip} answering {@code status} to every request, each one's line recorded.
   */
  private HttpServer backend(String ip, int status, List<String> seen) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress(ip, 0), 16);
    s.createContext(
        "/",
        ex -> {
          seen.add(
              ex.getRequestMethod()
                  + " "
                  + ex.getRequestURI()
                  + " "
                  + ex.getRequestHeaders().getFirst("User-Agent"));
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    s.start();
    backends.add(s);
    return s;
  }

  @Test
  void healthChecksStartWhenTheClusterIsConfiguredWithNoRequestSent() throws Exception {
    List<String> goodSeen = new CopyOnWriteArrayList<>();
    List<String> badSeen = new CopyOnWriteArrayList<>();
    int good = backend(GOOD_IP, 200, goodSeen).getAddress().getPort();
    int bad = backend(BAD_IP, 503, badSeen).getAddress().getPort();
    proxy =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/good", "good"), SocketProxy.to("/", "bad"))
            .http("in", "")
            .cluster("good", GOOD_IP, good, CHECK)
            .cluster("bad", BAD_IP, bad, CHECK)
            .admin()
            .start();

    // no request is sent: the checker probes both endpoints on its own
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(goodSeen).contains("GET /healthz Envoy/HC");
              assertThat(badSeen).contains("GET /healthz Envoy/HC");
            });
    // and marks the failing one in /clusters after its two failed checks
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(clusters())
                    .contains("bad::" + BAD_IP + ":" + bad + "::health_flags::/failed_active_hc")
                    .contains("good::" + GOOD_IP + ":" + good + "::health_flags::healthy"));
    // only health checks reached the backends: the listener took nothing
    assertThat(goodSeen).allMatch(l -> l.equals("GET /healthz Envoy/HC"));
    assertThat(badSeen).allMatch(l -> l.equals("GET /healthz Envoy/HC"));
    assertThat(proxy.stat("http.in.downstream_rq_total")).isZero();
  }

  private String clusters() throws Exception {
    var admin = proxy.proxy.adminAddress().orElseThrow();
    try (HttpClient client = HttpClient.newHttpClient()) {
      return client
          .send(
              HttpRequest.newBuilder(
                      URI.create("http://" + IP + ":" + admin.getPort() + "/clusters"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
