package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/1 response under way when the connection manager's drain ends, as Envoy's {@code
 * onDrainTimeout} leaves it (drain state "closing", then {@code checkForDeferredClose} once the
 * stream is done): the response finishes, then the connection closes. If its head went out before
 * the drain began it said nothing of it, and the connection closes after its last byte; a head that
 * goes out during the drain says {@code connection: close}. The drain comes from the connection
 * manager's {@code max_connection_duration} (1 s, {@code drain_timeout} 0.3 s); the backend writes
 * its answers byte for byte, slowly.
 */
class DrainTimeoutResponseProxyTest {
  static final String IP = "127.0.82.5";

  static ScriptedBackend backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backend =
        new ScriptedBackend(
            "127.0.82.6",
            (path, out) -> {
              switch (path) {
                case "/drip" -> {
                  // the head at once, then the body a byte every 250 ms: 3 s in all
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n");
                  for (int i = 0; i < 12; i++) {
                    Thread.sleep(250);
                    ScriptedBackend.write(out, "d");
                  }
                }
                case "/late" -> {
                  Thread.sleep(1_800); // the head comes once the drain began
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate");
                }
                default ->
                    ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
              }
              return true;
            });
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "drip",
                    IP,
                    port,
                    """
                    common_http_protocol_options: {max_connection_duration: 1s}
                    drain_timeout: 0.3s""",
                    "{match: {prefix: /}, route: {cluster: b, timeout: 30s}}")),
            List.of(SocketProxy.cluster("b", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  /** Sends a GET for {@code path} on a new connection. */
  static Socket get(String path) throws Exception {
    Socket s = proxy.h1(port, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    s.setSoTimeout(5_000);
    return s;
  }

  @Test
  void aResponseWhoseHeadWentOutBeforeTheDrainClosesItsConnectionAfterItsLastByte()
      throws Exception {
    try (Socket s = get("/drip")) {
      String head = SocketProxy.head(s.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("connection: close");
      // the drain begins at 1 s and its timeout runs out at 1.3 s, while the body still flows
      byte[] body = s.getInputStream().readNBytes(12);
      assertThat(new String(body, StandardCharsets.US_ASCII)).isEqualTo("dddddddddddd");
      // the response is whole: the proxy closes the connection now, not at a next request
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void aResponseWhoseHeadGoesOutDuringTheDrainSaysConnectionClose() throws Exception {
    try (Socket s = get("/late")) {
      String head = SocketProxy.head(s.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("\r\nconnection: close\r\n");
      assertThat(new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
          .isEqualTo("late");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }
}
