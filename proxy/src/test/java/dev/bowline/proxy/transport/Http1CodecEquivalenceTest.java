package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The proxy's HTTP/1 codecs decode exactly what Netty's decode, for heads in the strict form they
 * decode themselves and for everything they leave to Netty's decoder: the same messages, versions,
 * methods, targets, statuses, header names and values in order, contents, trailers and failures,
 * whether the bytes come in one read or are split at any point; and the server codec encodes
 * responses to HEAD and CONNECT to the same bytes. The reference is Netty's {@code HttpServerCodec}
 * for requests, and for responses the client codec with Netty's decoder alone, fed the same bytes
 * on an {@link EmbeddedChannel}.
 */
class Http1CodecEquivalenceTest {
  private static final int MAX = 8192;

  private static final List<String> REQUESTS =
      List.of(
          "GET /1k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*\r\nX-Custom:  v w \t\r\n"
              + "x-empty:\r\nCONTENT-TYPE: text/plain\r\n\r\n",
          "POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n"
              + "Host: b\r\n\r\n",
          "POST /p HTTP/1.1\r\nHost: a\r\ncontent-length: 0012\r\n\r\n0123456789ab",
          "PUT /big HTTP/1.0\r\nHost: a\r\nContent-Length: 20000\r\n\r\n" + "x".repeat(20000),
          "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
              + "x-trailer: t\r\n\r\n",
          "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
              + "0\r\n\r\n",
          "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
          "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
          "POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
          "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
          "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\npayload",
          "DELETE /d HTTP/1.1\r\nHost: a\r\n\r\nPATCH /d HTTP/1.1\r\nHost: a\r\n\r\n"
              + "TRACE /d HTTP/1.1\r\nHost: a\r\n\r\nBREW /pot HTTP/1.1\r\nHost: a\r\n\r\n",
          "\r\nGET /after-crlf HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /lf HTTP/1.1\nHost: a\n\n",
          "GET /ws HTTP/1.1\r\nHost: a\r\nName : v\r\n\r\n",
          "GET /fold HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
          "GET /ctl HTTP/1.1\r\nHost: a\r\nX-Bad: a\u0001b\r\n\r\n",
          "GET /del HTTP/1.1\r\nHost: a\r\nX-Bad: a\u007fb\r\n\r\n",
          "GET /obs HTTP/1.1\r\nHost: a\r\nX-Latin: caf\u00e9\r\n\r\n",
          "GET /badname HTTP/1.1\r\nHost: a\r\nBad{Name: v\r\n\r\n",
          "GET /two  spaces HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /v HTTP/1.2\r\nHost: a\r\n\r\n",
          "GET /v HTTP/2.0\r\nHost: a\r\n\r\n",
          "get /lower HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /t\u0001arget HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00"
              + "\r\n\r\n^n:ds[4U",
          "GET /long HTTP/1.1\r\nHost: a\r\nX-Long: " + "y".repeat(9000) + "\r\n\r\n",
          "GET /nohost HTTP/1.1\r\n\r\n",
          "GET /cut HTTP/1.1\r\nHost: a\r\nX-Partial: abc",
          "POST /short HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");

  private static final List<String> RESPONSES =
      List.of(
          "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 08:47:35 GMT\r\n"
              + "Content-Type: application/octet-stream\r\nContent-Length: 4\r\n"
              + "Last-Modified: Wed, 25 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\n"
              + "ETag: \"6925f3a0-400\"\r\nAccept-Ranges: bytes\r\n\r\nbody",
          "HTTP/1.1 404 Gone Away\r\nContent-Length: 0\r\nX-Trail:  x \t\r\n\r\n",
          "HTTP/1.0 299 Whatever\r\nContent-Length: 3\r\n\r\nabc",
          "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
          "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: y\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close",
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
              + "raw bytes",
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
          "HTTP/1.1 200  OK\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 OK\r\nName : v\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
          "HTTP/1.1 200 OK\r\nX-Folded: a\r\n\tb\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok",
          "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + "z".repeat(20000),
          "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\n"
              + "Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!");

  @Test
  void requestsDecodeAsNettysServerCodecDecodesThem() {
    for (String input : REQUESTS) {
      byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
      for (int split = 0; split < bytes.length; split += split < 200 ? 1 : 97) {
        List<String> netty = decode(() -> new HttpServerCodec(config()), bytes, split, null);
        assertThat(decode(() -> new Http1ServerCodec(config()), bytes, split, null))
            .as("request %s split at %d", printable(input), split)
            .isEqualTo(netty);
        assertThat(decode(() -> new Http1ServerCodec(config(), false), bytes, split, null))
            .as("request %s split at %d, Netty's decoder only", printable(input), split)
            .isEqualTo(netty);
      }
    }
  }

  /** How a test cuts the bytes into reads: 1, 2 and 3 bytes, and random sizes from fixed seeds. */
  private static List<IntSupplier> chunkings(int seed) {
    List<IntSupplier> c = new ArrayList<>(List.of(() -> 1, () -> 2, () -> 3));
    for (int i = 0; i < 4; i++) {
      Random r = new Random(seed * 31L + i);
      int bound = i % 2 == 0 ? 8 : 120;
      c.add(() -> 1 + r.nextInt(bound));
    }
    return c;
  }

  @Test
  void requestsInManyReadsDecodeAsNettysServerCodecDecodesThem() {
    for (String input : REQUESTS) {
      byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
      List<IntSupplier> ours = chunkings(input.length());
      List<IntSupplier> theirs = chunkings(input.length()); // the same sizes again
      for (int c = 0; c < ours.size(); c++) {
        assertThat(decodeInReads(() -> new Http1ServerCodec(config()), bytes, ours.get(c), null))
            .as("request %s in reads of chunking %d", printable(input), c)
            .isEqualTo(
                decodeInReads(() -> new HttpServerCodec(config()), bytes, theirs.get(c), null));
      }
    }
  }

  @Test
  void aStrictHeadSplitAcrossReadsIsDecodedInOnePassAsWhenWhole() {
    // heads in FastHead's form: one with a body and a pipelined second request, a browser-sized
    // one, and a keep-alive connection's; every cut of each into reads (decision 0037, addendum 16)
    List<String> strict =
        List.of(
            REQUESTS.get(0),
            REQUESTS.get(1),
            REQUESTS.get(2),
            "GET /page HTTP/1.1\r\nHost: a.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n"
                + "Accept: text/html,*/*;q=0.8\r\nCookie: s="
                + "c".repeat(600)
                + "\r\n\r\n",
            KEEP_ALIVE_REQUESTS);
    for (String input : strict) {
      byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
      List<String> whole = new ArrayList<>();
      EmbeddedChannel once = new EmbeddedChannel(new Http1ServerCodec(config()));
      feed(once, Unpooled.wrappedBuffer(bytes), whole);
      once.finishAndReleaseAll();
      assertThat(whole).isNotEmpty().noneMatch(m -> m.startsWith("exception"));
      for (IntSupplier sizes : chunkings(input.length())) {
        List<Class<?>> values = new ArrayList<>();
        List<String> split =
            decodeInReads(() -> new Http1ServerCodec(config()), bytes, sizes, values);
        assertThat(values)
            .as(
                "%s: every head split across reads decoded in one pass (AsciiString values, not"
                    + " Netty's decoder's Strings)",
                printable(input))
            .isNotEmpty()
            .containsOnly(AsciiString.class);
        assertThat(heads(split)).as(printable(input)).isEqualTo(heads(whole));
      }
    }
  }

  /** The messages but the contents, which are as many as the reads that carried the body. */
  private static List<String> heads(List<String> messages) {
    return messages.stream().filter(m -> m.startsWith("request")).toList();
  }

  /**
   * Everything {@code codec} decodes from {@code bytes} given in reads of {@code sizes}; the
   * classes of the decoded requests' header values go to {@code valueClasses} when not null.
   */
  private static List<String> decodeInReads(
      Supplier<ChannelHandler> codec,
      byte[] bytes,
      IntSupplier sizes,
      @Nullable List<Class<?>> valueClasses) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    List<String> seen = new ArrayList<>();
    for (int at = 0; at < bytes.length; ) {
      int n = Math.min(sizes.getAsInt(), bytes.length - at);
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(bytes, at, n));
      } catch (Exception e) {
        seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
      }
      at += n;
      for (Object o; (o = ch.readInbound()) != null; ) {
        if (valueClasses != null && o instanceof HttpRequest r) {
          r.headers()
              .iteratorCharSequence()
              .forEachRemaining(e -> valueClasses.add(e.getValue().getClass()));
        }
        seen.add(describe(o));
        ReferenceCountUtil.release(o);
      }
    }
    try {
      ch.finish();
    } catch (Exception e) {
      seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    drain(ch, seen);
    return seen;
  }

  @Test
  void responsesDecodeAsNettysClientCodecDecodesThem() {
    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.CONNECT)) {
      for (String input : RESPONSES) {
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        for (int split = 0; split < bytes.length; split += split < 200 ? 1 : 97) {
          assertThat(decode(() -> new Http1ClientCodec(config()), bytes, split, method))
              .as("response to %s: %s split at %d", method, printable(input), split)
              .isEqualTo(decode(() -> Http1ClientCodec.nettyHeads(config()), bytes, split, method));
        }
      }
    }
  }

  @Test
  void responsesToHeadAndConnectEncodeAsNettysServerCodecEncodesThem() {
    String requests =
        "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nCONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"
            + "GET /g HTTP/1.1\r\nHost: a\r\n\r\n";
    String netty = encodeResponses(() -> new HttpServerCodec(config()), requests);
    assertThat(encodeResponses(() -> new Http1ServerCodec(config()), requests)).isEqualTo(netty);
    // HEAD: no body; CONNECT: no transfer-encoding; GET: chunked
    assertThat(netty)
        .startsWith("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
        .endsWith("3\r\nabc\r\n0\r\n\r\n");
  }

  // One keep-alive connection's heads, each close to the one before: the same headers in the same
  // order, then a value changed at its last byte (same length), a target of the same length, the
  // lines in another order, a name in another case, a line more or less, values over the length
  // the codecs keep and an empty one. The codecs keep each line's last value (FastHead.recent).
  private static final String KEEP_ALIVE_REQUESTS =
      "GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: x/1\r\nX-Id: 111\r\n\r\n"
          + "GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: x/1\r\nX-Id: 111\r\n\r\n"
          + "GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: x/1\r\nX-Id: 112\r\n\r\n"
          + "GET /b HTTP/1.1\r\nHost: a\r\nUser-Agent: x/1\r\nX-Id: 112\r\n\r\n"
          + "GET /b HTTP/1.1\r\nHost: b\r\nX-Id: 112\r\nUser-Agent: x/1\r\n\r\n"
          + "GET /b HTTP/1.1\r\nHost: b\r\nx-id: 112\r\nUser-Agent: x/1\r\n\r\n"
          + "GET /b HTTP/1.1\r\nHost: b\r\nX-ID: 112\r\nUser-Agent: x/1\r\nX-More: m\r\n\r\n"
          + "GET /bb HTTP/1.1\r\nHost: b\r\nX-ID: 112\r\n\r\n"
          + "POST /bb HTTP/1.1\r\nHost: b\r\nX-ID:\r\nContent-Length: 2\r\n\r\nok"
          + "GET /bb HTTP/1.1\r\nHost: b\r\nX-ID: 112\r\nX-Long: "
          + "l".repeat(70)
          + "\r\n\r\n"
          + "GET /bb HTTP/1.1\r\nHost: b\r\nX-ID: 112\r\nX-Long: "
          + "l".repeat(69)
          + "m\r\n\r\n"
          + "GET /"
          + "p".repeat(300)
          + " HTTP/1.1\r\nHost: b\r\n\r\nGET /"
          + "p".repeat(299)
          + "q HTTP/1.1\r\nHost: b\r\n\r\n";

  private static final String NGINX_RESPONSE =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 08:47:3%d GMT\r\n"
          + "Content-Type: application/octet-stream\r\nContent-Length: 4\r\n"
          + "Last-Modified: Wed, 25 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\n"
          + "ETag: \"6925f3a0-40%d\"\r\nAccept-Ranges: bytes\r\n\r\nbody";

  private static final String KEEP_ALIVE_RESPONSES =
      NGINX_RESPONSE.formatted(5, 0)
          + NGINX_RESPONSE.formatted(5, 0)
          + NGINX_RESPONSE.formatted(6, 0)
          + NGINX_RESPONSE.formatted(6, 1)
          + "HTTP/1.1 200 OK\r\nX-Odd: 1\r\nContent-Length: 0\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nx-odd: 1\r\nContent-Length: 0\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nX-Odd: 2\r\nContent-Length: 0\r\n\r\n"
          + NGINX_RESPONSE.formatted(6, 1);

  @Test
  void keepAliveHeadsDecodeAsNettysCodecsDecodeThem() {
    byte[] requests = KEEP_ALIVE_REQUESTS.getBytes(StandardCharsets.ISO_8859_1);
    for (int split = 0; split < requests.length; split += 7) {
      assertThat(decode(() -> new Http1ServerCodec(config()), requests, split, null))
          .as("requests split at %d", split)
          .isEqualTo(decode(() -> new HttpServerCodec(config()), requests, split, null))
          .hasSizeGreaterThanOrEqualTo(26); // a body split in two is two contents
    }
    byte[] responses = KEEP_ALIVE_RESPONSES.getBytes(StandardCharsets.ISO_8859_1);
    for (int split = 0; split < responses.length; split += 7) {
      assertThat(decode(() -> new Http1ClientCodec(config()), responses, split, HttpMethod.GET))
          .as("responses split at %d", split)
          .isEqualTo(
              decode(() -> Http1ClientCodec.nettyHeads(config()), responses, split, HttpMethod.GET))
          .hasSizeGreaterThanOrEqualTo(16);
    }
  }

  @Test
  void aKeepAliveConnectionsRepeatedValuesAndTargetsAreMadeOnce() {
    EmbeddedChannel server = new EmbeddedChannel(new Http1ServerCodec(config()));
    server.writeInbound(Unpooled.copiedBuffer(KEEP_ALIVE_REQUESTS, StandardCharsets.ISO_8859_1));
    List<HttpRequest> requests = new ArrayList<>();
    for (Object o; (o = server.readInbound()) != null; ) {
      if (o instanceof HttpRequest r) {
        requests.add(r);
      }
      ReferenceCountUtil.release(o);
    }
    HttpRequest first = requests.get(0);
    HttpRequest second = requests.get(1);
    assertThat(second.uri()).isSameAs(first.uri());
    assertThat(second.headers().get("host")).isEqualTo("a");
    assertThat(second.headers().getAsString("user-agent")).isEqualTo("x/1");
    for (String name : List.of("host", "user-agent", "x-id")) {
      assertThat(value(second, name)).as(name).isSameAs(value(first, name));
    }
    assertThat(value(requests.get(2), "x-id")).isNotSameAs(value(second, "x-id"));
    assertThat(requests.get(3).uri()).isEqualTo("/b").isNotSameAs(second.uri());
    server.finishAndReleaseAll();

    EmbeddedChannel client = new EmbeddedChannel(new Http1ClientCodec(config()));
    for (int i = 0; i < 3; i++) {
      client.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"));
      releaseAll(client.outboundMessages());
    }
    String twice = NGINX_RESPONSE.formatted(5, 0);
    client.writeInbound(
        Unpooled.copiedBuffer(
            twice + twice + NGINX_RESPONSE.formatted(6, 0), StandardCharsets.ISO_8859_1));
    List<HttpResponse> responses = new ArrayList<>();
    for (Object o; (o = client.readInbound()) != null; ) {
      if (o instanceof HttpResponse r) {
        responses.add(r);
      }
      ReferenceCountUtil.release(o);
    }
    assertThat(responses).hasSize(3);
    var a = responses.get(0).headers().iteratorCharSequence();
    var b = responses.get(1).headers().iteratorCharSequence();
    while (a.hasNext()) {
      assertThat(b.next().getValue()).isSameAs(a.next().getValue());
    }
    assertThat(responses.get(2).headers().get("date")).isEqualTo("Thu, 26 Nov 2026 08:47:36 GMT");
    assertThat(value(responses.get(2), "date")).isNotSameAs(value(responses.get(1), "date"));
    assertThat(value(responses.get(2), "etag")).isSameAs(value(responses.get(1), "etag"));
    client.finishAndReleaseAll();
  }

  /** The value object {@code m}'s map holds for {@code name}. */
  private static CharSequence value(HttpMessage m, String name) {
    var it = m.headers().iteratorCharSequence();
    while (it.hasNext()) {
      var e = it.next();
      if (e.getKey().toString().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    throw new AssertionError("no " + name);
  }

  private static io.netty.handler.codec.http.HttpDecoderConfig config() {
    return Http1Decoding.config(MAX, MAX, 4096);
  }

  /**
   * Everything {@code codec} decodes from {@code bytes} given in two reads split at {@code split}.
   */
  private static List<String> decode(
      Supplier<ChannelHandler> codec, byte[] bytes, int split, HttpMethod clientMethod) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    List<String> seen = new ArrayList<>();
    if (clientMethod != null) {
      for (int i = 0; i < 3; i++) { // the answered requests: pipelined responses need theirs
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, clientMethod, "/x"));
        releaseAll(ch.outboundMessages());
      }
    }
    feed(ch, Unpooled.wrappedBuffer(bytes, 0, split), seen);
    feed(ch, Unpooled.wrappedBuffer(bytes, split, bytes.length - split), seen);
    try {
      ch.finish();
    } catch (Exception e) {
      seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    drain(ch, seen);
    return seen;
  }

  private static void feed(EmbeddedChannel ch, ByteBuf buf, List<String> seen) {
    try {
      ch.writeInbound(buf);
    } catch (Exception e) {
      seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    drain(ch, seen);
  }

  private static void drain(EmbeddedChannel ch, List<String> seen) {
    Object o;
    while ((o = ch.readInbound()) != null) {
      seen.add(describe(o));
      ReferenceCountUtil.release(o);
    }
  }

  private static void releaseAll(java.util.Queue<Object> q) {
    Object o;
    while ((o = q.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }

  private static String describe(Object o) {
    return ResponseDecoding.describe(o);
  }

  /** What {@code codec} writes for a 200 with a 3-byte body to each of {@code requests}. */
  private static String encodeResponses(Supplier<ChannelHandler> codec, String requests) {
    EmbeddedChannel ch = new EmbeddedChannel(codec.get());
    ch.writeInbound(Unpooled.copiedBuffer(requests, StandardCharsets.ISO_8859_1));
    releaseAll(ch.inboundMessages());
    StringBuilder wire = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      var r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("abc".getBytes()));
      r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
      ch.writeOutbound(r);
      Object o;
      while ((o = ch.readOutbound()) != null) {
        wire.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
        ReferenceCountUtil.release(o);
      }
    }
    ch.finishAndReleaseAll();
    return wire.toString();
  }

  private static String printable(String s) {
    String t = s.length() > 120 ? s.substring(0, 120) + "..." : s;
    return t.replace("\r", "\\r").replace("\n", "\\n");
  }
}
