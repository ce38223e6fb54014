package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's {@code http.<prefix>.downstream_cx_destroy*} counters and {@code downstream_cx_active},
 * {@code _http1_active}, {@code _http2_active} gauges, counted per connection as its connection
 * manager counts them: {@code _remote} when the client ended the connection, {@code _local} when
 * the proxy did, {@code _active_rq} (and its local or remote form) when a stream was open. Each
 * test has a listener of its own, so each counter's value is exactly this test's.
 */
class ConnectionDestroyStatsProxyTest {
  static final String IP = "127.0.7.62";
  static final List<String> KINDS =
      List.of("", "_remote", "_local", "_active_rq", "_remote_active_rq", "_local_active_rq");
  static NettyBackend backend;
  static SocketProxy proxy;
  static final Map<String, Integer> PORTS = new java.util.HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    backend = new NettyBackend("b", "127.0.7.63");
    Map<String, String> options =
        Map.of(
            "idleclient", "",
            "midrequest", "",
            "connclose", "",
            "h2error", "codec_type: HTTP2",
            "idletimeout",
                """
                common_http_protocol_options: {idle_timeout: 1s}
                drain_timeout: 0.3s""",
            "silent", "codec_type: HTTP1");
    SocketProxy.Builder builder = SocketProxy.on(IP).routes(SocketProxy.to("/", "b"));
    options.forEach(builder::http);
    proxy = builder.cluster("b", backend.ip(), backend.port()).start();
    options.keySet().forEach(name -> PORTS.put(name, proxy.port(name)));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static long stat(String prefix, String name) {
    return proxy.stat("http." + prefix + "." + name);
  }

  static long gauge(String prefix, String name) {
    String full = "http." + prefix + "." + name;
    return proxy.proxy.stats().gauges().stream()
        .filter(g -> g.name().equals(full))
        .mapToLong(g -> g.value())
        .sum();
  }

  /** The six destroy counters of {@code prefix}, in {@link #KINDS}' order. */
  static List<Long> destroyed(String prefix) {
    return KINDS.stream().map(k -> stat(prefix, "downstream_cx_destroy" + k)).toList();
  }

  static void awaitDestroyed(String prefix) {
    await().atMost(Duration.ofSeconds(30)).until(() -> stat(prefix, "downstream_cx_destroy") == 1);
  }

  static Socket open(String prefix) throws Exception {
    Socket s = new Socket(IP, PORTS.get(prefix));
    s.setSoTimeout(60_000);
    return s;
  }

  static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  /** The client closes its keep-alive connection between requests: remote, no stream. */
  @Test
  void aClientClosingAnIdleConnectionIsARemoteDestroy() throws Exception {
    String p = "idleclient";
    try (Socket s = open(p)) {
      send(s, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      // open and HTTP/1: the gauges say so while it is
      assertThat(gauge(p, "downstream_cx_active")).isEqualTo(1);
      assertThat(gauge(p, "downstream_cx_http1_active")).isEqualTo(1);
      assertThat(gauge(p, "downstream_cx_http2_active")).isZero();
    }
    awaitDestroyed(p);
    assertThat(destroyed(p)).containsExactly(1L, 1L, 0L, 0L, 0L, 0L);
    assertThat(stat(p, "downstream_cx_total")).isEqualTo(1);
    assertThat(stat(p, "downstream_cx_http1_total")).isEqualTo(1);
    assertThat(gauge(p, "downstream_cx_active")).isZero();
    assertThat(gauge(p, "downstream_cx_http1_active")).isZero();
  }

  /** The client closes with its request's body half sent: remote, with a stream open. */
  @Test
  void aClientClosingMidRequestIsARemoteDestroyWithAnActiveRequest() throws Exception {
    String p = "midrequest";
    try (Socket s = open(p)) {
      send(s, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
      await().atMost(Duration.ofSeconds(30)).until(() -> stat(p, "downstream_rq_total") == 1);
    }
    awaitDestroyed(p);
    assertThat(destroyed(p)).containsExactly(1L, 1L, 0L, 1L, 1L, 0L);
    assertThat(gauge(p, "downstream_cx_active")).isZero();
  }

  /** The proxy closes after a response to {@code connection: close}: local, no stream. */
  @Test
  void theProxyClosingAfterConnectionCloseIsALocalDestroy() throws Exception {
    String p = "connclose";
    try (Socket s = open(p)) {
      send(s, "GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(s.getInputStream().read()).isEqualTo(-1); // the proxy closed it
      awaitDestroyed(p);
    }
    assertThat(destroyed(p)).containsExactly(1L, 0L, 1L, 0L, 0L, 0L);
  }

  /** The proxy drains a connection idle past {@code idle_timeout}, then closes it: local. */
  @Test
  void theProxyClosingAtTheIdleTimeoutIsALocalDestroy() throws Exception {
    String p = "idletimeout";
    try (Socket s = open(p)) {
      send(s, "GET /d HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(s.getInputStream().read()).isEqualTo(-1); // a second idle, 0.3 s of drain
      awaitDestroyed(p);
    }
    assertThat(stat(p, "downstream_cx_idle_timeout")).isEqualTo(1);
    assertThat(destroyed(p)).containsExactly(1L, 0L, 1L, 0L, 0L, 0L);
  }

  /**
   * An HTTP/2 protocol error (DATA on stream 0) while a request is open: the proxy ends the
   * connection with GOAWAY PROTOCOL_ERROR, local with a stream open (Envoy's {@code
   * handleCodecError}).
   */
  @Test
  void anHttp2ProtocolErrorWithAStreamOpenIsALocalDestroyWithAnActiveRequest() throws Exception {
    String p = "h2error";
    try (RawH2 c = RawH2.open(IP, PORTS.get(p))) {
      c.socket().setSoTimeout(60_000);
      c.headers(1, RawH2.request("POST", "/e"), false);
      await().atMost(Duration.ofSeconds(30)).until(() -> stat(p, "downstream_rq_total") == 1);
      assertThat(gauge(p, "downstream_cx_http2_active")).isEqualTo(1);
      // a DATA frame on stream 0, byte by byte (Netty's writer refuses to write it)
      c.send(new byte[] {0, 0, 1, RawH2.DATA, 0, 0, 0, 0, 0, 'x'});
      RawH2.Frame goAway = c.readUntil(RawH2.GOAWAY);
      assertThat(goAway).isNotNull();
      assertThat(goAway.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(c.closedByPeer()).isTrue();
    }
    awaitDestroyed(p);
    assertThat(destroyed(p)).containsExactly(1L, 0L, 1L, 1L, 0L, 1L);
    assertThat(stat(p, "downstream_cx_http2_total")).isEqualTo(1);
    assertThat(gauge(p, "downstream_cx_http2_active")).isZero();
    assertThat(gauge(p, "downstream_cx_active")).isZero();
  }

  /**
   * A connection that never sent a byte has no codec in Envoy: counted as a connection, not as an
   * HTTP/1 one, even on an HTTP1-only listener.
   */
  @Test
  void aConnectionThatSentNothingHasNoCodecCounted() throws Exception {
    String p = "silent";
    try (Socket s = open(p)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> gauge(p, "downstream_cx_active") == 1);
    }
    awaitDestroyed(p);
    assertThat(destroyed(p)).containsExactly(1L, 1L, 0L, 0L, 0L, 0L);
    assertThat(stat(p, "downstream_cx_total")).isEqualTo(1);
    assertThat(stat(p, "downstream_cx_http1_total")).isZero();
    assertThat(gauge(p, "downstream_cx_http1_active")).isZero();
    assertThat(gauge(p, "downstream_cx_active")).isZero();
  }
}
