package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A downstream HTTP/2 stream the proxy gives up on after its response began (its upstream went away
 * mid-body, its route timeout fired) is reset with RST_STREAM NO_ERROR, as Envoy's codec resets a
 * stream its connection manager ends ({@code reasonToReset} of {@code LocalReset}), over real
 * sockets; the connection serves on. Netty's close of the stream's channel said CANCEL.
 */
class LocalResetProxyTest {
  static final String IP = "127.0.95.1";
  static final int NO_ERROR = 0;

  static ScriptedBackend backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    // the head and 3 of the 10 bytes of its body, then: /cut closes the connection, /stuck waits
    backend =
        new ScriptedBackend(
            "127.0.95.2",
            (path, out) -> {
              if (path.startsWith("/ok")) {
                ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                return true;
              }
              ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
              if (path.startsWith("/stuck")) {
                Thread.sleep(5000);
              }
              return false;
            });
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "local",
                    IP,
                    port,
                    "codec_type: HTTP2",
                    "{match: {prefix: /stuck}, route: {cluster: b, timeout: 0.5s}}",
                    SocketProxy.to("/", "b"))),
            List.of(SocketProxy.cluster("b", "127.0.95.2", backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  /** The frames of stream 1 of a new connection after a GET of {@code path}, up to its RST. */
  static List<RawH2.Frame> resetAfter(String path) throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      c.get(1, path, true);
      List<RawH2.Frame> seen = new ArrayList<>();
      c.readUntil(seen, f -> RawH2.has(f, RawH2.RST_STREAM, 1));
      // the connection serves on
      c.get(3, "/ok", true);
      c.readUntil(seen, f -> f.stream().anyMatch(x -> x.stream() == 3 && x.type() == RawH2.DATA));
      assertThat(RawH2.body(seen, 3)).isEqualTo("ok");
      return seen;
    }
  }

  static RawH2.Frame reset(List<RawH2.Frame> frames) {
    return frames.stream()
        .filter(f -> f.type() == RawH2.RST_STREAM && f.stream() == 1)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anUpstreamGoneMidResponseResetsTheStreamWithNoError() throws Exception {
    long tx = proxy.stat("http.local.downstream_rq_tx_reset");
    List<RawH2.Frame> frames = resetAfter("/cut");
    assertThat(RawH2.has(frames, RawH2.HEADERS, 1)).as("the response began").isTrue();
    assertThat(RawH2.body(frames, 1)).isEqualTo("abc");
    assertThat(reset(frames).errorCode()).isEqualTo(NO_ERROR);
    assertThat(proxy.stat("http.local.downstream_rq_tx_reset")).isEqualTo(tx + 1);
  }

  @Test
  void aRouteTimeoutAfterTheResponseBeganResetsTheStreamWithNoError() throws Exception {
    List<RawH2.Frame> frames = resetAfter("/stuck");
    assertThat(RawH2.body(frames, 1)).isEqualTo("abc");
    assertThat(reset(frames).errorCode()).isEqualTo(NO_ERROR);
  }
}
