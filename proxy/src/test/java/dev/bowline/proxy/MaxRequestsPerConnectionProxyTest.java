package dev.bowline.proxy;

import static dev.bowline.proxy.SocketProxy.get;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code common_http_protocol_options.max_requests_per_connection}, as
 * Envoy's {@code newStream} applies it: from a connection's Nth request on, each is counted ({@code
 * downstream_cx_max_requests_reached}); on HTTP/1 the Nth response says {@code connection: close}
 * and the connection ends after it; on HTTP/2 the connection drains (GOAWAY, the streams it took
 * finish, then the close).
 */
class MaxRequestsPerConnectionProxyTest {
  static final String IP = "127.0.7.64";
  static NettyBackend backend;
  static SocketProxy proxy;
  static int h1Port;
  static int h2Port;
  static int plainPort;

  @BeforeAll
  static void start() throws Exception {
    backend = new NettyBackend("b", "127.0.7.65");
    proxy =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/", "b"))
            .http("h1", "common_http_protocol_options: {max_requests_per_connection: 2}")
            .http(
                "h2",
                """
                codec_type: HTTP2
                common_http_protocol_options: {max_requests_per_connection: 2}""")
            .http("plain", "")
            .cluster("b", backend.ip(), backend.port())
            .start();
    h1Port = proxy.port("h1");
    h2Port = proxy.port("h2");
    plainPort = proxy.port("plain");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  @Test
  void theSecondHttp1ResponseSaysConnectionCloseAndTheConnectionEnds() throws Exception {
    try (Socket s = new Socket(IP, h1Port)) {
      s.setSoTimeout(60_000);
      assertThat(get(s, "/one"))
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
      assertThat(proxy.stat("http.h1.downstream_cx_max_requests_reached")).isZero();
      assertThat(get(s, "/two"))
          .startsWith("HTTP/1.1 200")
          .containsIgnoringCase("\r\nconnection: close\r\n");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(proxy.stat("http.h1.downstream_cx_max_requests_reached")).isEqualTo(1);
  }

  @Test
  void theSecondHttp2StreamDrainsTheConnectionAndBothAreServed() throws Exception {
    List<RawH2.Frame> frames = new ArrayList<>();
    try (RawH2 c = RawH2.open(IP, h2Port)) {
      c.socket().setSoTimeout(60_000);
      c.get(1, "/a", true).get(3, "/b", true);
      // the shutdown notice, both responses, the GOAWAY naming stream 3, then the close (a read
      // that times out instead fails the test)
      RawH2.Frame f;
      while ((f = c.read()) != null) {
        frames.add(f);
      }
    }
    List<RawH2.Frame> goAways = frames.stream().filter(f -> f.type() == RawH2.GOAWAY).toList();
    assertThat(goAways.getFirst().lastStreamId()).isEqualTo(Integer.MAX_VALUE);
    assertThat(goAways.getLast().lastStreamId()).isEqualTo(3);
    assertThat(goAways).allMatch(f -> f.errorCode() == 0);
    for (int stream : new int[] {1, 3}) {
      assertThat(
              frames.stream()
                  .filter(f -> f.type() == RawH2.HEADERS && f.stream() == stream)
                  .map(f -> f.headers().status().toString())
                  .toList())
          .as("stream %d", stream)
          .contains("200");
    }
    assertThat(proxy.stat("http.h2.downstream_cx_max_requests_reached")).isEqualTo(1);
  }

  /** Unset (Envoy's default), a connection carries any number of requests. */
  @Test
  void unsetLeavesTheConnectionOpen() throws Exception {
    try (Socket s = new Socket(IP, plainPort)) {
      s.setSoTimeout(60_000);
      for (int i = 0; i < 5; i++) {
        assertThat(get(s, "/r" + i))
            .startsWith("HTTP/1.1 200")
            .doesNotContainIgnoringCase("connection: close");
      }
    }
    assertThat(proxy.stat("http.plain.downstream_cx_max_requests_reached")).isZero();
  }
}
