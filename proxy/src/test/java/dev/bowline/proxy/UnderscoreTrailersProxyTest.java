package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code headers_with_underscores_action} on request trailers, as Envoy's codecs apply it: its
 * HTTP/1 codec checks each trailer field as it checks a header field ({@code completeCurrentHeader}
 * calls {@code checkHeaderNameForUnderscores} for both, trailers only where {@code enable_trailers}
 * keeps them), its HTTP/2 codec each field of any HEADERS block. DROP_HEADER drops the field and
 * counts it; REJECT_REQUEST counts the request and answers HTTP/1 with 400 {@code
 * http1.unexpected_underscore} and the close, HTTP/2 with RST_STREAM INTERNAL_ERROR. Real sockets:
 * a raw HTTP/1.1 client sending a chunked body with trailers, a raw HTTP/2 client, and a backend
 * that records the trailers it receives.
 */
class UnderscoreTrailersProxyTest {
  static final String IP = "127.0.75.1";

  @TempDir static Path dir;
  static TrailersProxyTest.TrailerBackend backend;
  static SocketProxy proxy;
  static int dropPort;
  static int rejectPort;

  static String listener(String name, int port, String action) {
    return SocketProxy.listener(
        name,
        IP,
        port,
        "codec_type: AUTO\n"
            + "http_protocol_options: {enable_trailers: true}\n"
            + "common_http_protocol_options: {headers_with_underscores_action: %s}\n"
                .formatted(action)
            + SocketProxy.accessLog(dir.resolve(name + ".log"), TrailersProxyTest.FORMAT),
        SocketProxy.to("/", "b"));
  }

  @BeforeAll
  static void start() throws Exception {
    backend = new TrailersProxyTest.TrailerBackend("127.0.75.2");
    dropPort = Ports.free(IP);
    rejectPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                listener("drop", dropPort, "DROP_HEADER"),
                listener("reject", rejectPort, "REJECT_REQUEST")),
            List.of(
                SocketProxy.cluster(
                    "b",
                    backend.ip(),
                    backend.port(),
                    SocketProxy.httpProtocolOptions(
                        "explicit_http_config: {http_protocol_options: {enable_trailers: true}}"))));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static String post(int port, String path, String trailers) throws Exception {
    return TrailersProxyTest.post(IP, port, path, trailers);
  }

  static List<String> lines(String listener, int n) {
    return TrailersProxyTest.lines(dir, listener, n);
  }

  @Test
  void http1DropForwardsTheTrailersWithoutTheField() throws Exception {
    long before = proxy.stat("http1.dropped_headers_with_underscores");
    String response = post(dropPort, "/h1-drop", "x_a: 1\r\nx-b: 2\r\n");
    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(backend.trailers.get("/h1-drop")).isEqualTo("x-b=2");
    assertThat(backend.bodies.get("/h1-drop")).isEqualTo("hello");
    assertThat(proxy.stat("http1.dropped_headers_with_underscores")).isEqualTo(before + 1);
  }

  @Test
  void http1RejectAnswers400AndCloses() throws Exception {
    long before = proxy.stat("http1.requests_rejected_with_underscores_in_headers");
    long errors = proxy.stat("http.reject.downstream_cx_protocol_error");
    int logged = lines("reject", 0).size();
    String response = post(rejectPort, "/h1-reject", "x_a: 1\r\n");
    assertThat(response).startsWith("HTTP/1.1 400 Bad Request");
    assertThat(lines("reject", logged + 1))
        .contains("POST /h1-reject HTTP/1.1 400 DPE http1.unexpected_underscore");
    assertThat(proxy.stat("http1.requests_rejected_with_underscores_in_headers"))
        .isEqualTo(before + 1);
    assertThat(proxy.stat("http.reject.downstream_cx_protocol_error")).isEqualTo(errors + 1);
  }

  /** A POST to {@code path} over HTTP/2 whose trailers are {@code x_a: 1, x-b: 2}. */
  static List<RawH2.Frame> h2Post(int port, String path, int untilType) throws Exception {
    List<RawH2.Frame> frames = new ArrayList<>();
    try (RawH2 c = RawH2.open(IP, port)) {
      c.socket().setSoTimeout(60_000);
      c.headers(
              1,
              new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("t"),
              false)
          .data(1, "hello".getBytes(StandardCharsets.US_ASCII), false)
          .headers(1, new DefaultHttp2Headers().add("x_a", "1").add("x-b", "2"), true);
      c.readUntil(frames, seen -> RawH2.has(seen, untilType, 1));
    }
    return frames;
  }

  @Test
  void http2DropForwardsTheTrailersWithoutTheField() throws Exception {
    long before = proxy.stat("http2.dropped_headers_with_underscores");
    List<RawH2.Frame> frames = h2Post(dropPort, "/h2-drop", RawH2.HEADERS);
    assertThat(frames.stream().filter(f -> f.type() == RawH2.HEADERS).findFirst().orElseThrow())
        .satisfies(f -> assertThat(f.headers().status().toString()).isEqualTo("200"));
    assertThat(backend.trailers.get("/h2-drop")).isEqualTo("x-b=2");
    assertThat(proxy.stat("http2.dropped_headers_with_underscores")).isEqualTo(before + 1);
  }

  @Test
  void http2RejectResetsTheStreamWithInternalError() throws Exception {
    long before = proxy.stat("http2.requests_rejected_with_underscores_in_headers");
    List<RawH2.Frame> frames = h2Post(rejectPort, "/h2-reject", RawH2.RST_STREAM);
    RawH2.Frame reset =
        frames.stream().filter(f -> f.type() == RawH2.RST_STREAM).findFirst().orElseThrow();
    // nghttp2 and oghttp2 answer the header callback's NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE so
    assertThat(reset.errorCode()).isEqualTo(RawH2.INTERNAL_ERROR);
    assertThat(proxy.stat("http2.requests_rejected_with_underscores_in_headers"))
        .isEqualTo(before + 1);
  }
}
