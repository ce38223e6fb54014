package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests the codec refuses are streams as in Envoy: logged with the response flag {@code DPE} and
 * the codec's response code details, counted in {@code downstream_rq_total}, {@code
 * downstream_rq_4xx} and {@code downstream_cx_protocol_error} (HTTP/2: {@code
 * http2.rx_messaging_error}). And {@code Expect: 100-continue} as Envoy answers it: the proxy's own
 * 100 on HTTP/1.1 and HTTP/2, counted in {@code downstream_rq_1xx}, and a 400 after it still closes
 * the connection. Over raw sockets, one listener per protocol.
 */
class CodecErrorProxyTest {
  static final String IP = "127.0.36.1";
  static final String FORMAT =
      "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS%"
          + " %RESPONSE_CODE_DETAILS%\\n";

  @TempDir static Path dir;
  static Backend backend;
  static SocketProxy proxy;
  static int h1Port;
  static int h2Port;

  static String listener(String name, int port, String codec) {
    return SocketProxy.listener(
        name,
        IP,
        port,
        "codec_type: "
            + codec
            + "\nmax_request_headers_kb: 4\n"
            + SocketProxy.accessLog(dir.resolve(name + ".log"), FORMAT),
        "{match: {prefix: /d400}, direct_response: {status: 400}}",
        SocketProxy.to("/", "a"));
  }

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.36.2");
    h1Port = Ports.free(IP);
    h2Port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(listener("h1", h1Port, "HTTP1"), listener("h2", h2Port, "HTTP2")),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  /** Sends {@code raw} and reads until the proxy closes the connection. */
  static String exchange(String raw) throws Exception {
    try (java.net.Socket s = new java.net.Socket(IP, h1Port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(raw.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      return new String(
          s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  /** The log's lines once it has at least {@code n}. */
  static List<String> lines(String listener, int n) {
    Path log = dir.resolve(listener + ".log");
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> Files.exists(log) ? Files.readAllLines(log) : List.<String>of(),
            l -> l.size() >= n);
  }

  /** Sends {@code raw}; returns the h1 log line it added, checking the counters moved by one. */
  private String h1(String raw, String expectedStatusLine) throws Exception {
    int before = lines("h1", 0).size();
    long rq = stat("http.h1.downstream_rq_total");
    long xx4 = stat("http.h1.downstream_rq_4xx");
    long pe = stat("http.h1.downstream_cx_protocol_error");
    assertThat(exchange(raw)).startsWith(expectedStatusLine).contains("connection: close");
    String line = lines("h1", before + 1).get(before);
    assertThat(stat("http.h1.downstream_rq_total")).isEqualTo(rq + 1);
    assertThat(stat("http.h1.downstream_rq_4xx")).isEqualTo(xx4 + 1);
    assertThat(stat("http.h1.downstream_cx_protocol_error")).isEqualTo(pe + 1);
    return line;
  }

  @Test
  void aBadRequestLineIsLoggedAsAProtocolError() throws Exception {
    assertThat(h1("GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"))
        .isEqualTo("- - HTTP/1.1 400 DPE http1.codec_error");
  }

  @Test
  void oversizedHeadersAreLoggedAsHeadersTooLarge() throws Exception {
    assertThat(
            h1(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(8000) + "\r\n\r\n",
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        .isEqualTo("- - HTTP/1.1 431 DPE http1.headers_too_large");
  }

  @Test
  void moreThanEnvoysHundredHeadersAre431TooManyHeaders() throws Exception {
    StringBuilder hundred = new StringBuilder("GET /h HTTP/1.1\r\nHost: x\r\n");
    for (int i = 1; i < 100; i++) {
      hundred.append("x-h").append(i).append(": v\r\n");
    }
    // 100 fields (Host included) are served
    int logged = lines("h1", 0).size();
    try (java.net.Socket s = new java.net.Socket(IP, h1Port)) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              (hundred + "connection: close\r\n\r\n")
                  .replace("x-h99: v\r\n", "")
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      assertThat(
              new String(
                  s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1))
          .startsWith("HTTP/1.1 200");
    }
    lines("h1", logged + 1); // its line is written before the next request's
    assertThat(
            h1(hundred + "x-h100: v\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        .isEqualTo("- - HTTP/1.1 431 DPE http1.too_many_headers");
  }

  @Test
  void invalidChunkingAnswersTheStartedStreamAsAProtocolError() throws Exception {
    assertThat(
            h1(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "ZZZ\r\nabc\r\n0\r\n\r\n",
                "HTTP/1.1 400 Bad Request\r\n"))
        .isEqualTo("POST /echo HTTP/1.1 400 DPE http1.codec_error");
  }

  @Test
  void chunkedTrailersOverMaxRequestHeadersKbAre431HeadersTooLarge() throws Exception {
    // Envoy's parser (Balsa) limits the trailer section as the header block: "trailers size
    // exceeds limit" is its 431 http1.headers_too_large, one big field or many small ones
    String head =
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
    assertThat(
            h1(
                head + "0\r\nx-t: " + "y".repeat(5000) + "\r\n\r\n",
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        .isEqualTo("POST /echo HTTP/1.1 431 DPE http1.headers_too_large");
    StringBuilder many = new StringBuilder(head + "0\r\n");
    for (int i = 0; i < 100; i++) {
      many.append("x-t").append(i).append(": ").append("y".repeat(50)).append("\r\n");
    }
    assertThat(h1(many + "\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        .isEqualTo("POST /echo HTTP/1.1 431 DPE http1.headers_too_large");
  }

  @Test
  void http10IsAProtocolErrorUnlessAccepted() throws Exception {
    assertThat(h1("GET /old HTTP/1.0\r\nHost: x\r\n\r\n", "HTTP/1.1 426 Upgrade Required\r\n"))
        .isEqualTo("GET /old HTTP/1.0 426 DPE low_version");
  }

  @Test
  void invalidHeadersOnHttp2AreLoggedAndCountedAsMessagingErrors() throws Exception {
    int before = lines("h2", 0).size();
    long rq = stat("http.h2.downstream_rq_total");
    long pe = stat("http.h2.downstream_cx_protocol_error");
    long messaging = stat("http2.rx_messaging_error");
    try (RawH2 bad = proxy.h2(h2Port)) {
      bad.headers(1, RawH2.invalidRequest(), true);
      Frame f = bad.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
    }
    assertThat(lines("h2", before + 1).get(before))
        .isEqualTo("- - HTTP/2 0 DPE http2.invalid.header.field");
    assertThat(stat("http.h2.downstream_rq_total")).isEqualTo(rq + 1);
    assertThat(stat("http.h2.downstream_cx_protocol_error")).isEqualTo(pe + 1);
    assertThat(stat("http2.rx_messaging_error")).isEqualTo(messaging + 1);
  }

  @Test
  void aStreamOpenWhenTheHttp2ConnectionFailsIsResetAsAProtocolError() throws Exception {
    int before = lines("h2", 0).size();
    long pe = stat("http.h2.downstream_cx_protocol_error");
    try (RawH2 bad = proxy.h2(h2Port)) {
      // a request whose body has not finished, then DATA on stream 0: a connection error
      bad.headers(1, RawH2.request("POST", "/echo"), false);
      bad.send(new byte[] {0, 0, 1, RawH2.DATA, 0, 0, 0, 0, 0, 'x'});
      Frame f = bad.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
    }
    assertThat(lines("h2", before + 1).get(before))
        .isEqualTo("POST /echo HTTP/2 0 DPE codec_error:PROTOCOL_ERROR");
    assertThat(stat("http.h2.downstream_cx_protocol_error")).isEqualTo(pe + 1);
  }

  /** Sends {@code raw} on a fresh connection; what came back until the proxy closed it. */
  static String exchangeAfterContinue(String head, String body) throws Exception {
    int logged = lines("h1", 0).size();
    try (java.net.Socket s = new java.net.Socket(IP, h1Port)) {
      s.setSoTimeout(5000);
      var out = s.getOutputStream();
      var in = s.getInputStream();
      out.write(head.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      byte[] cont = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertThat(new String(cont, java.nio.charset.StandardCharsets.ISO_8859_1))
          .isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      out.write(body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    } finally {
      lines("h1", logged + 1); // logged before the next test counts lines
    }
  }

  @Test
  void aLocal400AfterTheProxys100ContinueClosesTheConnection() throws Exception {
    long xx1 = stat("http.h1.downstream_rq_1xx");
    String reply =
        exchangeAfterContinue(
            "POST /d400 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
            "hello");
    assertThat(reply).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close");
    assertThat(stat("http.h1.downstream_rq_1xx")).isEqualTo(xx1 + 1);
  }

  @Test
  void aBadBodyAfterTheProxys100ContinueIs400AndCloses() throws Exception {
    String reply =
        exchangeAfterContinue(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n",
            "ZZZ\r\nabc\r\n0\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close");
  }

  @Test
  void http2GetsTheProxys100ContinueAsAnInterimHeadersFrame() throws Exception {
    long xx1 = stat("http.h2.downstream_rq_1xx");
    int logged = lines("h2", 0).size();
    try (RawH2 c = proxy.h2(h2Port)) {
      c.frames(
          (w, ctx) ->
              w.writeHeaders(
                  ctx,
                  1,
                  new DefaultHttp2Headers()
                      .method("POST")
                      .path("/echo")
                      .scheme("http")
                      .authority("t")
                      .add("expect", "100-continue"),
                  0,
                  false,
                  ctx.newPromise()));
      Frame interim = c.readUntil(RawH2.HEADERS);
      assertThat(interim).isNotNull();
      assertThat(interim.headers().status().toString()).isEqualTo("100");
      assertThat(interim.endStream()).isFalse();
      c.data(1, "hello", true);
      Frame fin = c.readUntil(RawH2.HEADERS);
      assertThat(fin).isNotNull();
      assertThat(fin.headers().status().toString()).isEqualTo("200");
    }
    assertThat(stat("http.h2.downstream_rq_1xx")).isEqualTo(xx1 + 1);
    lines("h2", logged + 1); // logged before the next test counts lines
  }

  /**
   * Sends {@code refused} as stream 3 while stream 1 (a POST) is open on the same connection:
   * stream 3 gets RST_STREAM INTERNAL_ERROR, stream 1 and a new stream 5 are still served, and the
   * refused stream is logged and counted as Envoy does.
   */
  private void onlyTheOverflowingStreamIsReset(DefaultHttp2Headers refused) throws Exception {
    int before = lines("h2", 0).size();
    long overflow = stat("http2.header_overflow");
    long rq = stat("http.h2.downstream_rq_total");
    long pe = stat("http.h2.downstream_cx_protocol_error");
    try (RawH2 c = proxy.h2(h2Port)) {
      c.headers(1, RawH2.request("POST", "/echo"), false);
      c.frames((w, ctx) -> w.writeHeaders(ctx, 3, refused, 0, true, ctx.newPromise()));
      Frame reset = c.readUntil(RawH2.RST_STREAM);
      assertThat(reset).isNotNull();
      assertThat(reset.stream()).isEqualTo(3);
      assertThat(reset.errorCode()).isEqualTo(RawH2.INTERNAL_ERROR);
      c.data(1, "hello", true);
      Frame answer = c.readUntil(RawH2.HEADERS);
      assertThat(answer).isNotNull();
      assertThat(answer.stream()).isEqualTo(1);
      assertThat(answer.headers().status().toString()).isEqualTo("200");
      c.get(5, "/after", true);
      Frame next;
      do {
        next = c.readUntil(RawH2.HEADERS);
      } while (next != null && next.stream() != 5);
      assertThat(next).isNotNull();
      assertThat(next.headers().status().toString()).isEqualTo("200");
    }
    List<String> logged = lines("h2", before + 3).subList(before, before + 3);
    assertThat(logged)
        .containsExactlyInAnyOrder(
            "- - HTTP/2 0 DR http2.too_many_headers",
            "POST /echo HTTP/2 200 - via_upstream",
            "GET /after HTTP/2 200 - via_upstream");
    assertThat(stat("http2.header_overflow")).isEqualTo(overflow + 1);
    assertThat(stat("http.h2.downstream_rq_total")).isEqualTo(rq + 3);
    assertThat(stat("http.h2.downstream_cx_protocol_error")).isEqualTo(pe);
  }

  @Test
  void http2HeadersOverMaxRequestHeadersKbResetOnlyTheirStream() throws Exception {
    // 4 KiB limit; a 4,500-byte value
    onlyTheOverflowingStreamIsReset(
        (DefaultHttp2Headers)
            new DefaultHttp2Headers()
                .method("GET")
                .path("/big")
                .scheme("http")
                .authority("t")
                .add("x-big", "y".repeat(4500)));
  }

  @Test
  void http2HeadersOverMaxHeadersCountResetOnlyTheirStream() throws Exception {
    // Envoy counts pseudo-headers too: 4 of them and 96 fields are served, one more is reset
    DefaultHttp2Headers hundred = new DefaultHttp2Headers();
    hundred.method("GET").path("/h").scheme("http").authority("t");
    for (int i = 1; i <= 96; i++) {
      hundred.add("x-h" + i, "v");
    }
    int before = lines("h2", 0).size();
    try (RawH2 c = proxy.h2(h2Port)) {
      c.frames((w, ctx) -> w.writeHeaders(ctx, 1, hundred, 0, true, ctx.newPromise()));
      Frame ok = c.readUntil(RawH2.HEADERS);
      assertThat(ok).isNotNull();
      assertThat(ok.headers().status().toString()).isEqualTo("200");
    }
    lines("h2", before + 1);
    onlyTheOverflowingStreamIsReset((DefaultHttp2Headers) hundred.add("x-h97", "v"));
  }

  @Test
  void http2HeaderBlocksUpToFourTimesTheLimitResetOnlyTheirStream() throws Exception {
    // 4 KiB limit, a 12,000-byte value: past Netty's own GOAWAY bound (1.25x), under Envoy's
    // (oghttp2's 4x the limit in encoded bytes); '&' has an 8-bit Huffman code, so the block is
    // sent as it is, 12 KB
    onlyTheOverflowingStreamIsReset(
        (DefaultHttp2Headers)
            new DefaultHttp2Headers()
                .method("GET")
                .path("/big")
                .scheme("http")
                .authority("t")
                .add("x-big", "&".repeat(12_000)));
  }

  @Test
  void anHttp2HeaderBlockOverFourTimesTheLimitEndsTheConnectionAsEnvoysDecoder() throws Exception {
    long pe = stat("http.h2.downstream_cx_protocol_error");
    try (RawH2 c = proxy.h2(h2Port)) {
      // 20,000 bytes: a HEADERS frame and a CONTINUATION, past 4 x 4 KiB
      c.frames(
          (w, ctx) ->
              w.writeHeaders(
                  ctx,
                  1,
                  new DefaultHttp2Headers()
                      .method("GET")
                      .path("/huge")
                      .scheme("http")
                      .authority("t")
                      .add("x-big", "&".repeat(20_000)),
                  0,
                  true,
                  ctx.newPromise()));
      Frame f = c.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.COMPRESSION_ERROR);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(stat("http.h2.downstream_cx_protocol_error")).isEqualTo(pe + 1);
    // another connection is served
    try (RawH2 c = proxy.h2(h2Port)) {
      int before = lines("h2", 0).size();
      c.get(1, "/next", true);
      Frame ok = c.readUntil(RawH2.HEADERS);
      assertThat(ok).isNotNull();
      assertThat(ok.headers().status().toString()).isEqualTo("200");
      lines("h2", before + 1);
    }
  }

  /**
   * Trailers over the limits on stream 1, with stream 3 open beside it: stream 1 is reset
   * (RST_STREAM INTERNAL_ERROR) and logged as Envoy logs it ({@code DR}: its codec closes the
   * stream with INTERNAL_ERROR, which the connection manager takes for a remote reset; details
   * {@code http2.too_many_headers}), stream 3 and a new stream 5 are served.
   */
  private void trailersResetOnlyTheirStream(DefaultHttp2Headers trailers) throws Exception {
    int before = lines("h2", 0).size();
    long overflow = stat("http2.header_overflow");
    long pe = stat("http.h2.downstream_cx_protocol_error");
    try (RawH2 c = proxy.h2(h2Port)) {
      for (int stream : new int[] {1, 3}) {
        c.frames(
            (w, ctx) ->
                w.writeHeaders(
                    ctx,
                    stream,
                    new DefaultHttp2Headers()
                        .method("POST")
                        .path("/echo")
                        .scheme("http")
                        .authority("t"),
                    0,
                    false,
                    ctx.newPromise()));
        c.frames(
            (w, ctx) ->
                w.writeData(
                    ctx,
                    stream,
                    io.netty.buffer.Unpooled.copiedBuffer(
                        "hello", java.nio.charset.StandardCharsets.US_ASCII),
                    0,
                    false,
                    ctx.newPromise()));
      }
      c.frames((w, ctx) -> w.writeHeaders(ctx, 1, trailers, 0, true, ctx.newPromise()));
      Frame reset = c.readUntil(RawH2.RST_STREAM);
      assertThat(reset).isNotNull();
      assertThat(reset.stream()).isEqualTo(1);
      assertThat(reset.errorCode()).isEqualTo(RawH2.INTERNAL_ERROR);
      c.frames(
          (w, ctx) ->
              w.writeData(
                  ctx, 3, io.netty.buffer.Unpooled.EMPTY_BUFFER, 0, true, ctx.newPromise()));
      Frame answer = c.readUntil(RawH2.HEADERS);
      assertThat(answer).isNotNull();
      assertThat(answer.stream()).isEqualTo(3);
      assertThat(answer.headers().status().toString()).isEqualTo("200");
      c.get(5, "/after", true);
      Frame next;
      do {
        next = c.readUntil(RawH2.HEADERS);
      } while (next != null && next.stream() != 5);
      assertThat(next).isNotNull();
      assertThat(next.headers().status().toString()).isEqualTo("200");
    }
    assertThat(lines("h2", before + 3).subList(before, before + 3))
        .containsExactlyInAnyOrder(
            "POST /echo HTTP/2 0 DR http2.too_many_headers",
            "POST /echo HTTP/2 200 - via_upstream",
            "GET /after HTTP/2 200 - via_upstream");
    assertThat(stat("http2.header_overflow")).isEqualTo(overflow + 1);
    assertThat(stat("http.h2.downstream_cx_protocol_error")).isEqualTo(pe);
  }

  @Test
  void http2TrailersOverMaxRequestHeadersKbResetOnlyTheirStream() throws Exception {
    trailersResetOnlyTheirStream(
        (DefaultHttp2Headers) new DefaultHttp2Headers().add("x-t", "&".repeat(5000)));
  }

  @Test
  void http2TrailersOverMaxHeadersCountResetOnlyTheirStream() throws Exception {
    DefaultHttp2Headers many = new DefaultHttp2Headers();
    for (int i = 1; i <= 101; i++) {
      many.add("x-t" + i, "v");
    }
    trailersResetOnlyTheirStream(many);
  }

  /** Sends {@code head} (a body it announces is never sent) and reads the response's head. */
  /** Sends {@code head} (a body it announces is never sent) and reads the response's head. */
  static String responseHead(java.net.Socket s, String head) throws Exception {
    s.setSoTimeout(5000);
    s.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    StringBuilder got = new StringBuilder();
    var in = s.getInputStream();
    while (got.indexOf("\r\n\r\n") < 0) {
      int b = in.read();
      assertThat(b).isNotNegative();
      got.append((char) b);
    }
    return got.toString();
  }

  @Test
  void responsesBeforeTheRequestEndedAndDelayedCloseTimeoutsAreCounted() throws Exception {
    String early = "POST /d400 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
    long before = stat("http.h1.downstream_rq_response_before_rq_complete");
    long timeouts = stat("http.h1.downstream_cx_delayed_close_timeout");
    int logged = lines("h1", 0).size();
    // a whole request: neither counter moves
    assertThat(exchange("GET /whole HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200");
    // answered before its body came, then the client closes first: no delayed-close timeout
    try (java.net.Socket s = new java.net.Socket(IP, h1Port)) {
      assertThat(responseHead(s, early)).startsWith("HTTP/1.1 400").contains("connection: close");
    }
    // the same, but the client waits: the proxy closes when delayed_close_timeout (1 s) runs out
    try (java.net.Socket s = new java.net.Socket(IP, h1Port)) {
      assertThat(responseHead(s, early)).startsWith("HTTP/1.1 400");
      assertThat(s.getInputStream().read()).isEqualTo(-1); // no body; the proxy's close
    }
    lines("h1", logged + 3);
    assertThat(stat("http.h1.downstream_rq_response_before_rq_complete")).isEqualTo(before + 2);
    await()
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(10))
        .until(() -> stat("http.h1.downstream_cx_delayed_close_timeout"), n -> n == timeouts + 1);
    // HTTP/2: a local reply to a stream whose body has not ended counts too
    long h2Before = stat("http.h2.downstream_rq_response_before_rq_complete");
    try (RawH2 c = proxy.h2(h2Port)) {
      c.headers(1, RawH2.request("POST", "/d400"), false);
      Frame f = c.readUntil(RawH2.HEADERS);
      assertThat(f).isNotNull();
      assertThat(f.headers().status().toString()).isEqualTo("400");
    }
    assertThat(stat("http.h2.downstream_rq_response_before_rq_complete")).isEqualTo(h2Before + 1);
  }
}
