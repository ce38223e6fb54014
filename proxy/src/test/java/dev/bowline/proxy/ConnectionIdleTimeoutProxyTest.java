package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code common_http_protocol_options.idle_timeout}, as Envoy's {@code
 * onIdleTimeout}: a downstream connection with no stream for that long is counted ({@code
 * downstream_cx_idle_timeout}) and drained. HTTP/1.1: the next response says {@code connection:
 * close}, and {@code drain_timeout} later an idle connection closes. HTTP/2: GOAWAY (the shutdown
 * notice, then the last stream's), then the close. A connection that never sent a byte has no codec
 * in Envoy and is closed at once. A stream in flight keeps its connection, however long it takes.
 */
class ConnectionIdleTimeoutProxyTest {
  static final String IP = "127.0.7.60";
  static NettyBackend h1;
  static SocketProxy proxy;
  // 2 s where a request must come first: a second of margin more on a loaded machine
  static int quickPort; // idle_timeout 2s, drain_timeout 0.3s, AUTO
  static int patientPort; // idle_timeout 2s, drain_timeout 60s, AUTO
  static int h1Port; // idle_timeout 2s, drain_timeout 60s, HTTP1
  static int h2Port; // idle_timeout 1s, drain_timeout 0.3s, HTTP2
  static int plainPort; // the defaults: idle_timeout 1 h

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.7.61");
    proxy =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/", "h1"))
            .http(
                "quick",
                """
                common_http_protocol_options: {idle_timeout: 2s}
                drain_timeout: 0.3s""")
            .http(
                "patient",
                """
                common_http_protocol_options: {idle_timeout: 2s}
                drain_timeout: 60s""")
            .http(
                "h1only",
                """
                codec_type: HTTP1
                common_http_protocol_options: {idle_timeout: 2s}
                drain_timeout: 60s""")
            .http(
                "h2only",
                """
                codec_type: HTTP2
                common_http_protocol_options: {idle_timeout: 1s}
                drain_timeout: 0.3s""")
            .http("plain", "")
            .cluster("h1", h1.ip(), h1.port())
            .start();
    quickPort = proxy.port("quick");
    patientPort = proxy.port("patient");
    h1Port = proxy.port("h1only");
    h2Port = proxy.port("h2only");
    plainPort = proxy.port("plain");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    h1.close();
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  static String get(Socket s, String path) throws Exception {
    send(s, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    return SocketProxy.response(s.getInputStream());
  }

  @Test
  void anIdleHttp1ConnectionIsCountedAndClosedADrainTimeoutLater() throws Exception {
    long before = stat("http.quick.downstream_cx_idle_timeout");
    try (Socket s = new Socket(IP, quickPort)) {
      s.setSoTimeout(60_000);
      assertThat(get(s, "/a")).startsWith("HTTP/1.1 200");
      // two seconds of no stream, then 0.3 s of drain: the proxy closes it
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(stat("http.quick.downstream_cx_idle_timeout")).isEqualTo(before + 1);
  }

  @Test
  void aDrainingIdleHttp1ConnectionAnswersItsNextRequestWithConnectionClose() throws Exception {
    try (Socket s = new Socket(IP, patientPort)) {
      s.setSoTimeout(60_000);
      long before = stat("http.patient.downstream_cx_idle_timeout");
      assertThat(get(s, "/b")).startsWith("HTTP/1.1 200");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> stat("http.patient.downstream_cx_idle_timeout") == before + 1);
      assertThat(get(s, "/c"))
          .startsWith("HTTP/1.1 200")
          .containsIgnoringCase("\r\nconnection: close\r\n");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  /**
   * A connection that has sent nothing has no codec in Envoy: closed at the idle timeout, not
   * drained for the 60 s {@code drain_timeout} of these listeners (AUTO and HTTP1 codecs).
   */
  @Test
  void aConnectionThatSentNothingIsClosedAtItsIdleTimeout() throws Exception {
    for (var listener :
        List.of(
            java.util.Map.entry("patient", patientPort), java.util.Map.entry("h1only", h1Port))) {
      String counter = "http." + listener.getKey() + ".downstream_cx_idle_timeout";
      long before = stat(counter);
      try (Socket s = new Socket(IP, listener.getValue())) {
        s.setSoTimeout(30_000);
        assertThat(s.getInputStream().read()).as(listener.getKey()).isEqualTo(-1);
      }
      assertThat(stat(counter)).as(listener.getKey()).isEqualTo(before + 1);
    }
  }

  /**
   * An HTTP/2 connection past its preface with no stream for a second: the shutdown notice, then
   * (its PING answered) the GOAWAY naming the last stream taken (none), then the close.
   */
  @Test
  void anIdleHttp2ConnectionIsDrainedWithGoAway() throws Exception {
    long before = stat("http.h2only.downstream_cx_idle_timeout");
    try (RawH2 c = RawH2.open(IP, h2Port)) {
      c.socket().setSoTimeout(60_000);
      RawH2.Frame notice = c.readUntil(RawH2.GOAWAY);
      assertThat(notice).isNotNull();
      assertThat(notice.errorCode()).isZero();
      assertThat(notice.lastStreamId()).isEqualTo(Integer.MAX_VALUE);
      RawH2.Frame last = c.readUntil(RawH2.GOAWAY);
      assertThat(last).isNotNull();
      assertThat(last.errorCode()).isZero();
      assertThat(last.lastStreamId()).isZero();
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(stat("http.h2only.downstream_cx_idle_timeout")).isEqualTo(before + 1);
  }

  /** A request in flight is a stream: its connection is not idle however long the body takes. */
  @Test
  void aStreamInFlightKeepsItsConnection() throws Exception {
    try (Socket s = new Socket(IP, patientPort)) {
      s.setSoTimeout(60_000);
      long before = stat("http.patient.downstream_cx_idle_timeout");
      send(s, "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
      // over two idle timeouts with the body half sent: not idle, nothing counted
      await().pollDelay(Duration.ofMillis(4500)).atMost(Duration.ofSeconds(10)).until(() -> true);
      assertThat(stat("http.patient.downstream_cx_idle_timeout")).isEqualTo(before);
      send(s, "cd");
      assertThat(SocketProxy.response(s.getInputStream()))
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
    }
  }

  /** The default idle timeout is an hour: a connection idle a few seconds is served as before. */
  @Test
  void theDefaultIdleTimeoutLeavesAConnectionIdleForSecondsOpen() throws Exception {
    try (Socket s = new Socket(IP, plainPort)) {
      s.setSoTimeout(60_000);
      assertThat(get(s, "/one")).startsWith("HTTP/1.1 200");
      await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).until(() -> true);
      assertThat(get(s, "/two"))
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
    }
    assertThat(stat("http.plain.downstream_cx_idle_timeout")).isZero();
  }
}
