package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stream resets as Envoy reports them. Downstream: a client's RST_STREAM is logged with the flag
 * {@code DR} and the codec's details {@code http2.remote_reset} ({@code http2.remote_refuse} for
 * REFUSED_STREAM), not {@code DC}, and every reset counts in {@code downstream_rq_rx_reset}; an
 * HTTP/1 client gone mid-request stays {@code DC}. Upstream HTTP/2: the peer's RST_STREAM counts in
 * {@code upstream_rq_rx_reset}, the proxy's own reset of a stream (its client went away) in {@code
 * upstream_rq_tx_reset}. Raw HTTP/1.1 and HTTP/2 clients over sockets.
 */
class StreamResetProxyTest {
  static final String IP = "127.0.71.1";
  static final String FORMAT =
      "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS%"
          + " %RESPONSE_CODE_DETAILS%\\n";
  static final int CANCEL = 8;

  @TempDir static Path dir;
  static NettyBackend h1; // answers a request once it is whole
  static H2Backend h2hold; // holds every answer
  static H2Backend h2reset; // answers with RST_STREAM INTERNAL_ERROR
  static SocketProxy proxy;
  static int port;

  static final String H2 =
      SocketProxy.httpProtocolOptions("explicit_http_config: {http2_protocol_options: {}}");

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.71.2");
    h2hold = new H2Backend("h2hold", "127.0.71.3", 0, 0);
    h2hold.hold = true;
    h2reset = new H2Backend("h2reset", "127.0.71.4", 0, 0);
    h2reset.resetWith = RawH2.INTERNAL_ERROR;
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "rst",
                    IP,
                    port,
                    "codec_type: AUTO\n" + SocketProxy.accessLog(dir.resolve("rst.log"), FORMAT),
                    SocketProxy.to("/h1", "h1"),
                    SocketProxy.to("/h2hold", "h2hold"),
                    SocketProxy.to("/h2reset", "h2reset"))),
            List.of(
                SocketProxy.cluster("h1", h1.ip(), h1.port(), ""),
                SocketProxy.cluster("h2hold", h2hold.ip(), h2hold.port(), H2),
                SocketProxy.cluster("h2reset", h2reset.ip(), h2reset.port(), H2)));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    h1.close();
    h2hold.close();
    h2reset.close();
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  /** The access log line of the request for {@code path}, once written. */
  static String logged(String path) {
    Path log = dir.resolve("rst.log");
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                SocketProxy.logLines(log).stream()
                    .filter(l -> l.contains(" " + path + " "))
                    .findFirst()
                    .orElse(null),
            l -> l != null);
  }

  /** HEADERS of a POST to {@code path} and some DATA, the stream left open. */
  static void postOpen(RawH2 c, int stream, String path) throws Exception {
    c.headers(stream, RawH2.request("POST", path), false).data(stream, "part", false);
  }

  static void reset(RawH2 c, int stream, long code) throws Exception {
    c.frames((w, ctx) -> w.writeRstStream(ctx, stream, code, ctx.newPromise()));
  }

  @Test
  void aClientResetMidRequestIsADownstreamRemoteReset() throws Exception {
    long rx = stat("http.rst.downstream_rq_rx_reset");
    long tx = stat("http.rst.downstream_rq_tx_reset");
    try (RawH2 c = proxy.h2(port)) {
      postOpen(c, 1, "/h1/cancel");
      reset(c, 1, CANCEL);
      assertThat(logged("/h1/cancel")).isEqualTo("POST /h1/cancel HTTP/2 0 DR http2.remote_reset");
    }
    assertThat(stat("http.rst.downstream_rq_rx_reset")).isEqualTo(rx + 1);
    assertThat(stat("http.rst.downstream_rq_tx_reset")).isEqualTo(tx);
  }

  @Test
  void aRefusedStreamFromTheClientIsLoggedRemoteRefuse() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      postOpen(c, 1, "/h1/refuse");
      reset(c, 1, RawH2.REFUSED_STREAM);
      assertThat(logged("/h1/refuse")).isEqualTo("POST /h1/refuse HTTP/2 0 DR http2.remote_refuse");
    }
  }

  @Test
  void aClientResetWhileTheUpstreamStreamRunsResetsItCountedAsSent() throws Exception {
    long txUp = stat("cluster.h2hold.upstream_rq_tx_reset");
    int held = h2hold.held();
    try (RawH2 c = proxy.h2(port)) {
      c.get(1, "/h2hold/a", true);
      await().atMost(Duration.ofSeconds(20)).until(() -> h2hold.held() == held + 1);
      reset(c, 1, CANCEL);
      assertThat(logged("/h2hold/a")).isEqualTo("GET /h2hold/a HTTP/2 0 DR http2.remote_reset");
    }
    assertThat(stat("cluster.h2hold.upstream_rq_tx_reset")).isEqualTo(txUp + 1);
    assertThat(stat("cluster.h2hold.upstream_rq_rx_reset")).isZero();
  }

  @Test
  void anUpstreamResetCountsAsReceived() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      c.get(1, "/h2reset/a", true);
      RawH2.Frame head = c.readUntil(RawH2.HEADERS);
      assertThat(head).isNotNull();
      assertThat(head.headers().status().toString()).isEqualTo("503");
    }
    assertThat(logged("/h2reset/a"))
        .isEqualTo(
            "GET /h2reset/a HTTP/2 503 UR upstream_reset_before_response_started{remote_reset}");
    assertThat(stat("cluster.h2reset.upstream_rq_rx_reset")).isEqualTo(1);
    assertThat(stat("cluster.h2reset.upstream_rq_tx_reset")).isZero();
  }

  @Test
  void anHttp1ClientGoneMidRequestStaysADownstreamConnectionTermination() throws Exception {
    long rx = stat("http.rst.downstream_rq_rx_reset");
    try (Socket s = new Socket(IP, port)) {
      s.getOutputStream()
          .write(
              "POST /h1/gone HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nten bytes."
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      await().atMost(Duration.ofSeconds(20)).until(() -> h1.connections.get() > 0);
    }
    assertThat(logged("/h1/gone")).isEqualTo("POST /h1/gone HTTP/1.1 0 DC -");
    assertThat(stat("http.rst.downstream_rq_rx_reset")).isEqualTo(rx + 1);
  }
}
