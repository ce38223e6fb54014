package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code stream_error_on_invalid_http_message} and the per-protocol {@code
 * override_stream_error_on_invalid_http_message} as Envoy applies them: by default a 400 ends an
 * HTTP/1 connection and invalid HEADERS end an HTTP/2 connection (GOAWAY); with the override the
 * HTTP/1 connection stays open and only the HTTP/2 stream is reset. The protocol's override wins
 * over the connection manager's switch, which wins over HTTP/2's deprecated one.
 */
class InvalidMessagingTest {
  static final String IP = "127.0.9.80";
  static Backend backend;
  static SocketProxy proxy;
  static int strict;
  static int http1Lenient;
  static int hcmLenient;
  static int deprecatedOnly;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.9.81");
    strict = Ports.free(IP);
    http1Lenient = Ports.free(IP);
    hcmLenient = Ports.free(IP);
    deprecatedOnly = Ports.free(IP);
    String all = SocketProxy.to("/", "a");
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener("strict", IP, strict, "", all),
                SocketProxy.listener(
                    "h1",
                    IP,
                    http1Lenient,
                    "http_protocol_options: {override_stream_error_on_invalid_http_message: true}",
                    all),
                SocketProxy.listener(
                    "hcm",
                    IP,
                    hcmLenient,
                    """
                    stream_error_on_invalid_http_message: true
                    http_protocol_options: {override_stream_error_on_invalid_http_message: false}""",
                    all),
                SocketProxy.listener(
                    "deprecated",
                    IP,
                    deprecatedOnly,
                    "http2_protocol_options: {stream_error_on_invalid_http_messaging: true}",
                    all)),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  private static final String NO_HOST = "GET /first HTTP/1.1\r\n\r\n";
  private static final String GOOD = "GET /second HTTP/1.1\r\nHost: x\r\n\r\n";

  /** Sends a request without Host, then a good one on the same connection; all that came back. */
  static String twoRequests(int port) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(NO_HOST.getBytes(StandardCharsets.US_ASCII));
      String first = BadInputTest.readResponse(in);
      if (first.contains("connection: close")) {
        // the proxy closes: the rest of the stream is its end (the second request is not sent)
        return first + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      }
      out.write(GOOD.getBytes(StandardCharsets.US_ASCII));
      return first + BadInputTest.readResponse(in);
    }
  }

  @Test
  void byDefaultA400EndsTheHttp1Connection() throws Exception {
    String all = twoRequests(strict);
    assertThat(all).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close");
    assertThat(all).doesNotContain("path=/second");
  }

  @Test
  void theHttp1OverrideKeepsTheConnectionOpenAfterA400() throws Exception {
    String all = twoRequests(http1Lenient);
    assertThat(all).startsWith("HTTP/1.1 400 Bad Request\r\n").doesNotContain("connection: close");
    assertThat(all).contains("HTTP/1.1 200").contains("path=/second");
  }

  @Test
  void theHttp1OverrideWinsOverTheConnectionManagerSwitch() throws Exception {
    String all = twoRequests(hcmLenient); // HCM says stream error, http_protocol_options says no
    assertThat(all).startsWith("HTTP/1.1 400").contains("connection: close");
    assertThat(all).doesNotContain("path=/second");
  }

  @Test
  void parseErrorsAlwaysEndAnHttp1Connection() throws Exception {
    // the codec cannot read on after a malformed request line, whatever the override says
    try (Socket s = new Socket(IP, http1Lenient)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(reply).startsWith("HTTP/1.1 400").contains("connection: close");
    }
  }

  /** HEADERS with an unknown pseudo-header on stream 3 of {@code c}. */
  static void sendInvalidHeaders(RawH2 c) throws Exception {
    c.headers(3, RawH2.invalidRequest(), true);
  }

  static String get(RawH2 c, int stream, String path) throws Exception {
    return Http2BadInputTest.get(c, stream, path);
  }

  @Test
  void byDefaultInvalidHeadersEndTheHttp2Connection() throws Exception {
    try (RawH2 c = RawH2.open(IP, strict)) {
      assertThat(get(c, 1, "/fine")).isEqualTo("200");
      sendInvalidHeaders(c);
      Frame f = c.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  @Test
  void withTheConnectionManagerSwitchOnlyTheHttp2StreamIsReset() throws Exception {
    try (RawH2 c = RawH2.open(IP, hcmLenient)) {
      assertThat(get(c, 1, "/fine")).isEqualTo("200");
      sendInvalidHeaders(c);
      Frame f = c.readUntil(RawH2.RST_STREAM);
      assertThat(f).isNotNull();
      assertThat(f.stream()).isEqualTo(3);
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(get(c, 5, "/after")).isEqualTo("200");
    }
  }

  @Test
  void headersWithoutPathResetOnlyTheirStreamWhenLenient() throws Exception {
    try (RawH2 c = RawH2.open(IP, deprecatedOnly)) {
      // no :path: Netty's stream codec cannot make a request of it
      c.headers(
          1,
          new io.netty.handler.codec.http2.DefaultHttp2Headers(false)
              .method("GET")
              .scheme("http")
              .authority("test"),
          true);
      Frame f = c.readUntil(RawH2.RST_STREAM);
      assertThat(f).isNotNull();
      assertThat(f.stream()).isEqualTo(1);
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(get(c, 3, "/after")).isEqualTo("200");
    }
  }

  @Test
  void theDeprecatedHttp2SwitchAppliesWhenNothingElseIsSet() throws Exception {
    try (RawH2 c = RawH2.open(IP, deprecatedOnly)) {
      sendInvalidHeaders(c);
      Frame f = c.readUntil(RawH2.RST_STREAM);
      assertThat(f).isNotNull();
      assertThat(f.stream()).isEqualTo(3);
      assertThat(get(c, 5, "/after")).isEqualTo("200");
    }
  }
}
