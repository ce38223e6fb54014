package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Headers;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code common_http_protocol_options.headers_with_underscores_action}, as Envoy's codecs apply it
 * to each request header field: ALLOW (the default) passes it; DROP_HEADER drops it and counts
 * {@code http1.} / {@code http2.dropped_headers_with_underscores}; REJECT_REQUEST counts {@code
 * requests_rejected_with_underscores_in_headers} and refuses the request: HTTP/1, 400 and the close
 * (a protocol error); HTTP/2, RST_STREAM INTERNAL_ERROR on that stream only.
 */
class UnderscoreHeadersProxyTest {
  static final String IP = "127.0.7.66";
  static ScriptedBackend backend;
  static SocketProxy proxy;
  static int rejectPort;
  static int dropPort;
  static int allowPort;

  @BeforeAll
  static void start() throws Exception {
    backend = ScriptedBackend.echo("127.0.7.67");
    proxy =
        SocketProxy.on(IP)
            .routes(SocketProxy.to("/", "b"))
            .http(
                "reject",
                "common_http_protocol_options: {headers_with_underscores_action: REJECT_REQUEST}")
            .http(
                "drop",
                "common_http_protocol_options: {headers_with_underscores_action: DROP_HEADER}")
            .http("allow", "")
            .cluster("b", "127.0.7.67", backend.port())
            .start();
    rejectPort = proxy.port("reject");
    dropPort = proxy.port("drop");
    allowPort = proxy.port("allow");
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  static String get(Socket s) throws Exception {
    s.getOutputStream()
        .write(
            "GET /u HTTP/1.1\r\nHost: t\r\nx_under: 1\r\nx-dash: 2\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return SocketProxy.response(s.getInputStream());
  }

  static Http2Headers h2Request() {
    return RawH2.request("GET", "/u").add("x_under", "1").add("x-dash", "2");
  }

  @Test
  void http1RejectAnswers400AndCloses() throws Exception {
    long before = proxy.stat("http1.requests_rejected_with_underscores_in_headers");
    long errors = proxy.stat("http.reject.downstream_cx_protocol_error");
    try (Socket s = new Socket(IP, rejectPort)) {
      s.setSoTimeout(60_000);
      assertThat(get(s)).startsWith("HTTP/1.1 400");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(proxy.stat("http1.requests_rejected_with_underscores_in_headers"))
        .isEqualTo(before + 1);
    assertThat(proxy.stat("http.reject.downstream_cx_protocol_error")).isEqualTo(errors + 1);
  }

  @Test
  void http1DropForwardsTheRequestWithoutTheHeader() throws Exception {
    backend.heads.clear();
    long before = proxy.stat("http1.dropped_headers_with_underscores");
    try (Socket s = new Socket(IP, dropPort)) {
      s.setSoTimeout(60_000);
      assertThat(get(s)).startsWith("HTTP/1.1 200");
    }
    assertThat(backend.nextHead()).contains("\r\nx-dash: 2\r\n").doesNotContain("x_under");
    assertThat(proxy.stat("http1.dropped_headers_with_underscores")).isEqualTo(before + 1);
  }

  @Test
  void http1AllowIsTheDefault() throws Exception {
    backend.heads.clear();
    try (Socket s = new Socket(IP, allowPort)) {
      s.setSoTimeout(60_000);
      assertThat(get(s)).startsWith("HTTP/1.1 200");
    }
    assertThat(backend.nextHead()).contains("\r\nx_under: 1\r\n");
  }

  @Test
  void http2RejectResetsOnlyThatStream() throws Exception {
    backend.heads.clear();
    long before = proxy.stat("http2.requests_rejected_with_underscores_in_headers");
    List<RawH2.Frame> frames = new ArrayList<>();
    try (RawH2 c = RawH2.open(IP, rejectPort)) {
      c.socket().setSoTimeout(60_000);
      c.headers(1, h2Request(), true);
      c.readUntil(frames, seen -> RawH2.has(seen, RawH2.RST_STREAM, 1));
      c.get(3, "/after", true);
      c.readUntil(frames, seen -> RawH2.has(seen, RawH2.HEADERS, 3));
    }
    RawH2.Frame reset =
        frames.stream().filter(f -> f.type() == RawH2.RST_STREAM).findFirst().orElseThrow();
    assertThat(reset.errorCode()).isEqualTo(RawH2.INTERNAL_ERROR);
    assertThat(
            frames.stream()
                .filter(f -> f.type() == RawH2.HEADERS && f.stream() == 3)
                .findFirst()
                .orElseThrow()
                .headers()
                .status()
                .toString())
        .isEqualTo("200");
    assertThat(backend.nextHead())
        .startsWith("get /after "); // only the second request went upstream
    assertThat(proxy.stat("http2.requests_rejected_with_underscores_in_headers"))
        .isEqualTo(before + 1);
  }

  @Test
  void http2DropForwardsTheRequestWithoutTheHeader() throws Exception {
    backend.heads.clear();
    long before = proxy.stat("http2.dropped_headers_with_underscores");
    List<RawH2.Frame> frames = new ArrayList<>();
    try (RawH2 c = RawH2.open(IP, dropPort)) {
      c.socket().setSoTimeout(60_000);
      c.headers(1, h2Request(), true);
      c.readUntil(frames, seen -> RawH2.has(seen, RawH2.HEADERS, 1));
    }
    assertThat(backend.nextHead()).contains("\r\nx-dash: 2\r\n").doesNotContain("x_under");
    assertThat(proxy.stat("http2.dropped_headers_with_underscores")).isEqualTo(before + 1);
  }
}
