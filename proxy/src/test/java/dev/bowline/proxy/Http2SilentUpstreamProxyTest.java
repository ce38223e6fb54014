package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 upstream that accepts the connection and never sends its SETTINGS (nor anything else).
 * Envoy's pool takes the connection as up once TCP (and TLS) is, sends the request on a stream, and
 * the route timeout ends it: 504 {@code upstream request timeout}, {@code UT}, counted in {@code
 * upstream_rq_timeout}. The proxy's pool waits for the SETTINGS before it opens a stream (decision
 * 0039), so the request waits as a pending one instead, and the same route timeout ends it the same
 * way: what the client and the counters see is Envoy's. Over real sockets.
 */
class Http2SilentUpstreamProxyTest {
  static final String IP = "127.0.97.1";

  static ScriptedBackend silent;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    silent = ScriptedBackend.stall("127.0.97.2");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "silent",
                    IP,
                    port,
                    "",
                    "{match: {prefix: /}, route: {cluster: s, timeout: 0.5s}}")),
            List.of(
                SocketProxy.cluster(
                    "s", "127.0.97.2", silent.port(), "http2_protocol_options: {}")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    silent.close();
  }

  @Test
  void aRequestToAnUpstreamThatNeverSendsSettingsEndsAtItsRouteTimeout() throws Exception {
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      HttpResponse<String> r =
          c.send(
              HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/x"))
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(504);
      assertThat(r.body()).isEqualTo("upstream request timeout");
    }
    assertThat(silent.connections.get()).isEqualTo(1);
    assertThat(proxy.stat("cluster.s.upstream_rq_timeout")).isEqualTo(1);
    // the connection came up: no connect failure, as in Envoy
    assertThat(proxy.stat("cluster.s.upstream_cx_connect_fail")).isZero();
  }
}
