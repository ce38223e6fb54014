package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The proxy's HTTP/2 server stream codec makes what Netty's {@code
 * Http2StreamFrameToHttpObjectCodec(true)} makes: from request HEADERS and DATA the same HTTP/1
 * objects (type, method, target, version, header names and values in order, content, trailers) or
 * the same failure, and from responses, bodies and trailers the same frames (type, END_STREAM,
 * headers in order, content). The differences by design: Netty's {@code x-http2-scheme} and {@code
 * x-http2-stream-id} request headers, which the proxy removes at once, are not made; and a
 * response's own {@code x-http2-*} names, which Netty's conversion drops, are sent on as Envoy
 * sends them ({@link #responsesKeepTheirXHttp2Names}). Request headers are built as the frame
 * codec's HPACK decoder builds them, with Netty's HTTP/2 validation ({@code new
 * DefaultHttp2Headers(true)}): what it refuses never reaches either codec. Nothing the proxy's
 * codec allocates is left unreleased, whatever the request.
 */
class Http2StreamCodecEquivalenceTest {
  private static Http2Headers get(String path) {
    return new DefaultHttp2Headers(true).method("GET").path(path).scheme("http").authority("a");
  }

  private static Http2Headers of(String... nameValues) {
    Http2Headers h = new DefaultHttp2Headers(true);
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  private record Req(String name, Http2Headers headers, boolean endStream) {
    Req {
      headers = decoded(headers);
    }
  }

  /**
   * {@code headers} as the HPACK decoder hands them out: names and values are {@link AsciiString}s
   * (Netty's conversion compares some names as such), validated by Netty's HTTP/2 rules.
   */
  private static Http2Headers decoded(Http2Headers headers) {
    Http2Headers h = new DefaultHttp2Headers(true);
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      h.add(AsciiString.of(e.getKey()), AsciiString.of(e.getValue()));
    }
    return h;
  }

  private static final List<Req> REQUESTS =
      List.of(
          new Req("get", get("/1k").add("user-agent", "h2load").add("accept", "*/*"), true),
          new Req("get with a body to come", get("/p?q=1"), false),
          new Req(
              "post with content-length",
              get("/p").method("POST").add("content-length", "5").add("content-type", "a/b"),
              false),
          new Req(
              "cookies",
              get("/c")
                  .add("cookie", "a=1")
                  .add("x-other", "o")
                  .add("cookie", "b=2")
                  .add("cookie", "c=3"),
              true),
          new Req("one cookie", get("/c").add("cookie", "a=1; b=2"), false),
          new Req("te trailers", get("/g").add("te", "trailers").add("grpc-timeout", "1S"), false),
          new Req("trailer header", get("/g").add("trailer", "grpc-status"), false),
          new Req("host equal to authority", get("/h").add("host", "a"), true),
          new Req("host conflicting with authority", get("/h").add("host", "b"), true),
          new Req(
              "host without authority",
              of(":method", "GET", ":path", "/h", ":scheme", "http", "host", "b"),
              true),
          new Req("no authority", of(":method", "GET", ":path", "/n", ":scheme", "http"), true),
          new Req("client's x-http2 headers", get("/x").add("x-http2-scheme", "https"), true),
          new Req("client's x-http2 stream id", get("/x").add("x-http2-stream-id", "9"), false),
          new Req("connect", of(":method", "CONNECT", ":authority", "example.com:443"), false),
          new Req(
              "extended connect",
              of(
                  ":method",
                  "CONNECT",
                  ":protocol",
                  "websocket",
                  ":scheme",
                  "http",
                  ":path",
                  "/ws",
                  ":authority",
                  "a"),
              false),
          new Req("no path", of(":method", "GET", ":scheme", "http", ":authority", "a"), true),
          new Req("no path, body to come", of(":method", "GET", ":authority", "a"), false),
          new Req("no method", of(":path", "/", ":scheme", "http", ":authority", "a"), false),
          new Req("path with a space", get("/a b"), true),
          new Req("path with a space, body to come", get("/a b"), false),
          new Req("path with a tab", get("/a\tb"), true),
          new Req("path with obs-text", get("/caf\u00e9"), true),
          new Req("asterisk", get("*").method("OPTIONS"), true),
          new Req("absolute-form", get("http://a/b"), true),
          new Req("custom method", get("/pot").method("BREW"), true),
          new Req("method with a space", get("/m").method("GE T"), true),
          new Req(
              "many headers",
              get("/many")
                  .add("a1", "1")
                  .add("b2", "2")
                  .add("c3", "spaced  inside")
                  .add("x-empty", "")
                  .add("x-tab", "a\tb")
                  .add("x-latin", "caf\u00e9")
                  .add("accept-encoding", "gzip")
                  .add("x-request-id", "r")
                  .add("x-forwarded-for", "1.2.3.4")
                  .add("a1", "again")
                  .add("content-type", "application/grpc")
                  .add("d4", "4"),
              false),
          new Req("trailers", of("x-trailer", "t", "grpc-status", "0"), true),
          new Req("trailers with content-length", of("content-length", "3"), true),
          new Req("interim status on a request stream", of(":status", "100"), false),
          new Req("status on a request stream", of(":status", "200"), true));

  @Test
  void requestHeadersDecodeAsNettysCodecDecodesThem() {
    for (Req r : REQUESTS) {
      String netty = decode(new Http2StreamFrameToHttpObjectCodec(true), r);
      String ours = decode(new Http2ServerStreamCodec(), r);
      assertThat(ours).as(r.name()).isEqualTo(netty);
    }
  }

  @Test
  void theUncommonRequestsDecodeToWhatNettyChecks() {
    // the figures the equivalence above rests on, spelled out for the cases that matter
    assertThat(decode(new Http2ServerStreamCodec(), REQUESTS.get(3)))
        .contains("cookie: a=1; b=2; c=3");
    assertThat(decode(new Http2ServerStreamCodec(), REQUESTS.get(1)))
        .contains("transfer-encoding: chunked");
    assertThat(decode(new Http2ServerStreamCodec(), REQUESTS.get(8)))
        .startsWith("failure DecoderException");
    assertThat(decode(new Http2ServerStreamCodec(), REQUESTS.get(18)))
        .startsWith("failure DecoderException");
  }

  @Test
  void dataDecodesAsNettysCodecDecodesIt() {
    for (boolean end : List.of(false, true)) {
      for (String body : List.of("", "body")) {
        List<String> seen = new ArrayList<>();
        for (ChannelHandler codec :
            List.of(new Http2StreamFrameToHttpObjectCodec(true), new Http2ServerStreamCodec())) {
          EmbeddedChannel ch = new EmbeddedChannel(codec);
          ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
          ch.writeInbound(new DefaultHttp2DataFrame(content, end));
          HttpObject o = ch.readInbound();
          seen.add(describe(o));
          ReferenceCountUtil.release(o);
          assertThat(content.refCnt()).as("released once by its reader").isZero();
          ch.finishAndReleaseAll();
        }
        assertThat(seen.get(1)).as("DATA %s end %s", body, end).isEqualTo(seen.get(0));
      }
    }
  }

  @Test
  void nothingOursAllocatesOutlivesAFailedRequest() {
    for (Req r : REQUESTS) {
      Counting alloc = new Counting();
      EmbeddedChannel ch = new EmbeddedChannel(new Http2ServerStreamCodec());
      ch.config().setAllocator(alloc);
      try {
        ch.writeInbound(new DefaultHttp2HeadersFrame(r.headers(), r.endStream()));
      } catch (Exception expected) {
        // a refused request
      }
      ch.finishAndReleaseAll();
      assertThat(alloc.made).as(r.name()).allSatisfy(b -> assertThat(b.refCnt()).isZero());
    }
  }

  /** An allocator that remembers every buffer it made. */
  private static final class Counting extends io.netty.buffer.AbstractByteBufAllocator {
    final List<ByteBuf> made = new ArrayList<>();

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = Unpooled.buffer(initialCapacity, maxCapacity);
      made.add(b);
      return b;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = Unpooled.directBuffer(initialCapacity, maxCapacity);
      made.add(b);
      return b;
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  private static String decode(ChannelHandler codec, Req r) {
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    ch.config().setAllocator(ByteBufAllocator.DEFAULT);
    StringBuilder seen = new StringBuilder();
    try {
      ch.writeInbound(new DefaultHttp2HeadersFrame(r.headers(), r.endStream()));
    } catch (Exception e) {
      seen.append("failure ").append(e.getClass().getSimpleName());
    }
    Object o;
    while ((o = ch.readInbound()) != null) {
      seen.append(describe(o, true));
      ReferenceCountUtil.release(o);
    }
    ch.finishAndReleaseAll();
    return seen.toString();
  }

  private static String describe(Object o) {
    return describe(o, false);
  }

  /** Everything a handler after the codec can see of {@code o}. */
  private static String describe(Object o, boolean dropNettysExtensions) {
    StringBuilder b = new StringBuilder(o.getClass().getSimpleName());
    if (o instanceof HttpRequest req) {
      b.append(' ')
          .append(req.method())
          .append(' ')
          .append(req.uri())
          .append(' ')
          .append(req.protocolVersion())
          .append(' ')
          .append(req.decoderResult());
    }
    if (o instanceof HttpMessage m) {
      b.append(" headers ").append(headers(m.headers(), dropNettysExtensions));
    }
    if (o instanceof HttpContent c) {
      b.append(" content '").append(c.content().toString(StandardCharsets.ISO_8859_1)).append('\'');
    }
    if (o instanceof LastHttpContent last) {
      b.append(" trailers ").append(headers(last.trailingHeaders(), false));
    }
    return b.append('\n').toString();
  }

  private static String headers(HttpHeaders h, boolean dropNettysExtensions) {
    StringBuilder b = new StringBuilder("[");
    for (Map.Entry<String, String> e : h) {
      String name = e.getKey();
      if (dropNettysExtensions
          && (name.equals("x-http2-scheme") || name.equals("x-http2-stream-id"))) {
        continue;
      }
      b.append(name).append(": ").append(e.getValue()).append(", ");
    }
    return b.append(']').toString();
  }

  // ---- responses -------------------------------------------------------------------------------

  private record Resp(String name, Supplier<List<HttpObject>> parts) {}

  private static DefaultHttpResponse nginx() {
    DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    // the capitalised names are the upstream codec's shared constants, as it decodes them
    r.headers()
        .add(name("Server"), AsciiString.of("nginx/1.22.1"))
        .add(name("Date"), AsciiString.of("Thu, 26 Nov 2026 08:47:35 GMT"))
        .add(name("Content-Type"), AsciiString.of("application/octet-stream"))
        .add(name("Content-Length"), AsciiString.of("1024"))
        .add(name("Last-Modified"), AsciiString.of("Wed, 25 Nov 2026 10:00:00 GMT"))
        .add(name("ETag"), AsciiString.of("\"6925f3a0-400\""))
        .add(name("Accept-Ranges"), AsciiString.of("bytes"))
        .add("x-envoy-upstream-service-time", "1")
        .add("X-Custom-Header", "v");
    return r;
  }

  private static AsciiString name(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    AsciiString shared = Http1ClientCodec.ResponseNames.find(b, 0, b.length);
    return shared == null ? AsciiString.of(s) : shared;
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  private static LastHttpContent trailers(String body) {
    LastHttpContent last = new DefaultLastHttpContent(text(body));
    last.trailingHeaders().add("grpc-status", "0").add("Grpc-Message", "ok");
    return last;
  }

  private static final List<Resp> RESPONSES =
      List.of(
          new Resp(
              "proxied, body, end",
              () -> List.of(nginx(), new DefaultHttpContent(text("abc")), lastOf("def"))),
          new Resp(
              "proxied, empty end", () -> List.of(nginx(), LastHttpContent.EMPTY_LAST_CONTENT)),
          new Resp("proxied, trailers", () -> List.of(nginx(), trailers("tail"))),
          new Resp("proxied, trailers only", () -> List.of(nginx(), trailers(""))),
          new Resp(
              "hop-by-hop headers",
              () -> {
                DefaultHttpResponse r = nginx();
                r.headers()
                    .add("Keep-Alive", "timeout=5")
                    .add("Transfer-Encoding", "chunked")
                    .add("Upgrade", "h2c")
                    .add("Proxy-Connection", "x")
                    .add("Host", "h")
                    .add("x-http2-stream-weight", "3");
                return List.of(r, lastOf(""));
              }),
          new Resp(
              "connection tokens",
              () -> {
                DefaultHttpResponse r = nginx();
                r.headers().add("Connection", "X-Custom-Header, close").add("x-kept", "k");
                return List.of(r, lastOf(""));
              }),
          new Resp(
              "te and cookie",
              () -> {
                DefaultHttpResponse r = nginx();
                r.headers().add("TE", "gzip, trailers").add("Cookie", "a=1; b=2");
                return List.of(r, lastOf(""));
              }),
          new Resp(
              "local reply",
              () -> {
                var r =
                    new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND, text("not found"));
                r.headers().add("content-type", "text/plain").add("content-length", "9");
                return List.of(r);
              }),
          new Resp(
              "local reply without body",
              () ->
                  List.of(
                      new DefaultFullHttpResponse(
                          HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, text("")))),
          new Resp(
              "full with trailers",
              () -> {
                var r =
                    new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, text("x"));
                r.trailingHeaders().add("grpc-status", "14");
                return List.of(r);
              }),
          new Resp(
              "full, trailers only",
              () -> {
                var r =
                    new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, text(""));
                r.headers().add("content-type", "application/grpc");
                r.trailingHeaders().add("grpc-status", "14");
                return List.of(r);
              }),
          new Resp(
              "100 continue",
              () ->
                  List.of(
                      new DefaultFullHttpResponse(
                          HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, text("")),
                      nginx(),
                      lastOf("ok"))),
          new Resp(
              "interim not full",
              () ->
                  List.of(
                      new DefaultHttpResponse(
                          HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)))));

  private static LastHttpContent lastOf(String body) {
    return new DefaultLastHttpContent(text(body));
  }

  @Test
  void responsesKeepTheirXHttp2Names() {
    for (String extra : List.of("", "te")) {
      DefaultHttpResponse r = nginx();
      r.headers()
          .add("x-http2-scheme", "up")
          .add("x-http2-path", "/up")
          .add("x-http2-protocol", "p")
          .add("x-http2-stream-id", "3");
      if (!extra.isEmpty()) {
        r.headers().add(extra, "trailers"); // takes Netty's conversion
      }
      String ours =
          encode(new Http2ServerStreamCodec(), new ArrayList<Object>(List.of(r, lastOf(""))));
      assertThat(ours)
          .as("with %s", extra)
          .contains("x-http2-scheme: up")
          .contains("x-http2-path: /up")
          .contains("x-http2-protocol: p")
          .contains("x-http2-stream-id: 3");
    }
  }

  @Test
  void responsesEncodeAsNettysCodecEncodesThem() {
    for (Resp r : RESPONSES) {
      List<Object> nettyParts = new ArrayList<>(r.parts().get());
      List<Object> ourParts = new ArrayList<>(r.parts().get());
      String netty = encode(new Http2StreamFrameToHttpObjectCodec(true), nettyParts);
      String ours = encode(new Http2ServerStreamCodec(), ourParts);
      assertThat(ours).as(r.name()).isEqualTo(netty);
      for (Object p : ourParts) {
        if (p != LastHttpContent.EMPTY_LAST_CONTENT && p instanceof HttpContent c) {
          assertThat(c.refCnt()).as("%s: %s released", r.name(), p).isZero();
        }
        if (p instanceof FullHttpMessage f) {
          assertThat(f.refCnt()).as("%s: %s released", r.name(), p).isZero();
        }
      }
    }
  }

  private static String encode(ChannelHandler codec, List<Object> parts) {
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    StringBuilder seen = new StringBuilder();
    for (Object p : parts) {
      try {
        ch.writeOutbound(p);
      } catch (Exception e) {
        seen.append("failure ").append(e.getClass().getSimpleName()).append('\n');
      }
      Object o;
      while ((o = ch.readOutbound()) != null) {
        if (o instanceof Http2HeadersFrame f) {
          seen.append("HEADERS end=").append(f.isEndStream()).append(' ');
          for (Map.Entry<CharSequence, CharSequence> e : f.headers()) {
            seen.append(e.getKey()).append(": ").append(e.getValue()).append(", ");
          }
        } else if (o instanceof Http2DataFrame f) {
          seen.append("DATA end=")
              .append(f.isEndStream())
              .append(" '")
              .append(f.content().toString(StandardCharsets.ISO_8859_1))
              .append('\'');
        } else {
          seen.append(o);
        }
        seen.append('\n');
        ReferenceCountUtil.release(o);
      }
    }
    ch.finishAndReleaseAll();
    return seen.toString();
  }
}
