package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's HTTP/1.1 client codec for upstream connections: Netty's {@code HttpClientCodec}
 * (response decoder, request encoder, the request methods remembered so a response to HEAD has no
 * body and a 200 to CONNECT ends HTTP on the connection), with less made per response.
 *
 * <p>Netty's response decoder copies every header name into a new {@link AsciiString} and the
 * status line into three new strings; its request decoder shares the common request header names,
 * but nothing does for responses. This decoder hands out shared constants instead when the bytes
 * are exactly those of a common response header name (in lower case, or in the usual capitalised
 * form, such as {@code Content-Type}), of {@code HTTP/1.1}/{@code HTTP/1.0}, of a status code and
 * of its standard reason phrase. The bytes are compared exactly, so what goes downstream is the
 * same text the upstream sent; anything else is copied as before. With NGINX's eight response
 * headers this is ~16 objects and ~580 bytes less per proxied request.
 */
public final class Http1ClientCodec
    extends IdleClockCodec<HttpResponseDecoder, HttpRequestEncoder> {
  // Methods of requests sent and not yet answered, oldest first (event loop only).
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
  // A 200 to CONNECT was read: the rest of the connection is not HTTP and passes through as bytes.
  private boolean tunnel;
  // The cluster's http_protocol_options.enable_trailers: without it request trailers are not sent
  private final boolean enableTrailers;
  // The last request written went out whole (its last content was encoded)
  private boolean requestDone = true;

  /**
   * A codec decoding with {@code config} (limits, trailers factory) that sends request trailers.
   */
  public Http1ClientCodec(HttpDecoderConfig config) {
    this(config, java.time.Duration.ZERO, true, true);
  }

  /**
   * A codec decoding with {@code config} (limits, trailers factory); request trailers are written
   * only if {@code enableTrailers} (Envoy's HTTP/1 codec ends the body without them otherwise).
   */
  public Http1ClientCodec(HttpDecoderConfig config, boolean enableTrailers) {
    this(config, java.time.Duration.ZERO, enableTrailers, true);
  }

  /**
   * A codec decoding with {@code config} that sends request trailers and fires {@code
   * IdleStateEvent.ALL_IDLE_STATE_EVENT} to the handlers after it when nothing was read or written
   * for {@code idleTimeout} (zero: never), as an {@link IdleTimeout} before it would, without a
   * handler of its own.
   */
  public Http1ClientCodec(HttpDecoderConfig config, java.time.Duration idleTimeout) {
    this(config, idleTimeout, true, true);
  }

  /** A codec with the idle timeout of the constructor above and {@code enableTrailers}. */
  public Http1ClientCodec(
      HttpDecoderConfig config, java.time.Duration idleTimeout, boolean enableTrailers) {
    this(config, idleTimeout, enableTrailers, true);
  }

  /** A codec decoding every head with Netty's decoder (no fast heads): tests compare the two. */
  static Http1ClientCodec nettyHeads(HttpDecoderConfig config) {
    return new Http1ClientCodec(config, java.time.Duration.ZERO, true, false);
  }

  private Http1ClientCodec(
      HttpDecoderConfig config,
      java.time.Duration idleTimeout,
      boolean enableTrailers,
      boolean fastHeads) {
    super(IdleTimeout.clockFor(idleTimeout));
    this.enableTrailers = enableTrailers;
    init(new Decoder(config, fastHeads), new Encoder());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (idle != null) {
      idle.read();
    }
    super.channelRead(ctx, msg);
  }

  private final class Encoder extends HttpRequestEncoder {
    @Override
    protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, ByteBuf buf) {
      if (headers instanceof ArrayHeaders a) {
        a.encode(buf); // the same bytes as Netty's loop, without its iterator and entries
      } else {
        super.encodeHeaders(headers, buf);
      }
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out)
        throws Exception {
      if (msg instanceof HttpRequest r) {
        methods.add(r.method());
        requestDone = msg instanceof LastHttpContent; // a FullHttpRequest is whole at once
      } else if (msg instanceof LastHttpContent last) {
        requestDone = true;
        if (!enableTrailers
            && last != LastHttpContent.EMPTY_LAST_CONTENT
            && !last.trailingHeaders().isEmpty()) {
          // the body's last chunk without its trailers; the new message takes the content over,
          // and the encoder releases it with that message
          super.encode(ctx, new DefaultLastHttpContent(last.content()), out);
          return;
        }
      }
      super.encode(ctx, msg, out);
    }
  }

  /**
   * Whether the last request written on this connection went out whole. A response that ends before
   * it did leaves the peer expecting the rest of that body: Envoy's HTTP/1 pool then closes the
   * connection ("response before request complete") instead of reusing it.
   */
  public boolean requestDone() {
    return requestDone;
  }

  /**
   * Whether the decoder holds bytes it has not made into messages yet. Read by the handler after
   * the codec while it takes a message, this is what the same read brought beyond that message: at
   * the end of a response, bytes the upstream sent that answer no request in flight (Envoy's HTTP/1
   * client codec: "extraneous data after response complete").
   */
  public boolean unreadInput() {
    return ((Decoder) inboundHandler()).unread() > 0;
  }

  private final class Decoder extends HttpResponseDecoder {
    // the status code of the line being split, so its reason phrase can be matched
    private int code;
    private final FastHead fast;
    // room for the next fast head's headers: what this connection's heads held at most
    private final ArrayHeaders.Sizing sizing = new ArrayHeaders.Sizing(Http1Decoding.HEAD_CAPACITY);

    Decoder(HttpDecoderConfig config, boolean fastHeads) {
      super(config);
      this.fast = new FastHead(config, fastHeads);
    }

    int unread() {
      return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (tunnel) {
        int readable = actualReadableBytes();
        if (readable > 0) {
          out.add(buffer.readBytes(readable));
        }
        return;
      }
      if (fast.inBody()) {
        fast.body(buffer, out);
        return;
      }
      if (fast.idle()) {
        if (fastHead(buffer, out)) {
          return;
        }
        fast.toNetty();
      }
      int from = out.size();
      super.decode(ctx, buffer, out);
      fast.nettyDecoded(out, from);
    }

    /**
     * A response head in the common strict form ({@link FastHead}) with its body framed by
     * content-length (or none by its status or the request's method): decoded here, true; else
     * false, nothing consumed, and Netty's decoder takes it.
     */
    private boolean fastHead(ByteBuf buffer, List<Object> out) {
      if (!fast.load(buffer)) {
        return false;
      }
      HttpVersion version = fast.statusLine();
      int c = fast.code;
      if (version == null || c < 200) {
        return false; // interim and upgrade responses go through Netty's decoder
      }
      HttpMethod pendingMethod = methods.peek();
      if (HttpMethod.CONNECT.equals(pendingMethod)) {
        return false; // a tunnel may follow the head
      }
      String reason = REASONS[c - 100];
      HttpResponseStatus status =
          reason != null && fast.reasonIs(reason)
              ? HttpResponseStatus.valueOf(c)
              : HttpResponseStatus.valueOf(c, fast.reason());
      var checked = Http1Decoding.checkedHeaders(headersFactory, sizing);
      HttpResponse response =
          new DefaultHttpResponse(
              version, status, checked != null ? checked : headersFactory.newHeaders());
      if (!fast.headers(response.headers(), RESPONSE_NAMES)) {
        return false;
      }
      boolean empty = HttpMethod.HEAD.equals(pendingMethod) || c == 204 || c == 304;
      if (!empty && fast.contentLength < 0) {
        return false; // a body until the connection closes: Netty's decoder
      }
      isContentAlwaysEmpty(response); // takes the request's method off the queue, as Netty does
      long body = empty ? 0 : fast.contentLength;
      fast.consumed(buffer, body);
      out.add(response);
      if (body == 0) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      }
      return true;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      super.decodeLast(ctx, in, out);
      fast.closed(); // a body cut short ends without its last part, as in Netty's decoder
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      HttpResponseStatus status = ((HttpResponse) msg).status();
      if (status.code() >= 100 && status.code() < 200) {
        return super.isContentAlwaysEmpty(msg); // interim: the request's final response follows
      }
      HttpMethod method = methods.poll(); // null if the peer answers more often than asked
      if (HttpMethod.HEAD.equals(method)) {
        return true; // RFC 9110 9.3.2: never a body, whatever the headers say
      }
      if (HttpMethod.CONNECT.equals(method) && status.code() == 200) {
        tunnel = true;
        methods.clear();
        return true;
      }
      return super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
      AsciiString known = RESPONSE_NAMES.find(sb, start, length);
      return known != null ? known : super.splitHeaderName(sb, start, length);
    }

    @Override
    protected String splitFirstWordInitialLine(byte[] sb, int start, int length) {
      if (same(sb, start, length, HTTP_1_1)) {
        return HTTP_1_1;
      }
      return same(sb, start, length, HTTP_1_0)
          ? HTTP_1_0
          : super.splitFirstWordInitialLine(sb, start, length);
    }

    @Override
    protected String splitSecondWordInitialLine(byte[] sb, int start, int length) {
      code = 0;
      if (length == 3) {
        int c = digit(sb[start]) * 100 + digit(sb[start + 1]) * 10 + digit(sb[start + 2]);
        if (c >= 100 && c < 600 && CODES[c - 100] != null) {
          code = c;
          return CODES[c - 100];
        }
      }
      return super.splitSecondWordInitialLine(sb, start, length);
    }

    @Override
    protected String splitThirdWordInitialLine(byte[] sb, int start, int length) {
      String reason = code != 0 ? REASONS[code - 100] : null;
      if (reason != null && same(sb, start, length, reason)) {
        return reason;
      }
      return super.splitThirdWordInitialLine(sb, start, length);
    }
  }

  private static final String HTTP_1_1 = "HTTP/1.1";
  private static final String HTTP_1_0 = "HTTP/1.0";

  // The codes Netty has a constant status for, as text, and their reason phrases (code - 100);
  // null for the others. Integer.parseInt and HttpResponseStatus.valueOf take them back.
  private static final @Nullable String[] CODES = new String[500];
  private static final @Nullable String[] REASONS = new String[500];

  static {
    for (int i = 0; i < CODES.length; i++) {
      HttpResponseStatus s = HttpResponseStatus.valueOf(100 + i);
      if (s == HttpResponseStatus.valueOf(100 + i)) { // a constant, not made for this call
        CODES[i] = Integer.toString(100 + i);
        REASONS[i] = s.reasonPhrase();
      }
    }
  }

  private static int digit(byte b) {
    return b >= '0' && b <= '9' ? b - '0' : -1000;
  }

  /** Whether the {@code length} bytes at {@code start} are the ASCII text {@code s}, exactly. */
  private static boolean same(byte[] sb, int start, int length, String s) {
    if (length != s.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (sb[start + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static final HeaderNameTable RESPONSE_NAMES =
      new HeaderNameTable(
          List.of(
              HttpHeaderNames.ACCEPT_RANGES,
              HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS,
              HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
              HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS,
              HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN,
              HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS,
              HttpHeaderNames.ACCESS_CONTROL_MAX_AGE,
              HttpHeaderNames.AGE,
              HttpHeaderNames.ALLOW,
              HttpHeaderNames.CACHE_CONTROL,
              HttpHeaderNames.CONNECTION,
              HttpHeaderNames.CONTENT_DISPOSITION,
              HttpHeaderNames.CONTENT_ENCODING,
              HttpHeaderNames.CONTENT_LANGUAGE,
              HttpHeaderNames.CONTENT_LENGTH,
              HttpHeaderNames.CONTENT_LOCATION,
              HttpHeaderNames.CONTENT_RANGE,
              HttpHeaderNames.CONTENT_SECURITY_POLICY,
              HttpHeaderNames.CONTENT_TYPE,
              HttpHeaderNames.DATE,
              HttpHeaderNames.ETAG,
              HttpHeaderNames.EXPIRES,
              HttpHeaderNames.KEEP_ALIVE,
              HttpHeaderNames.LAST_MODIFIED,
              AsciiString.cached("link"),
              HttpHeaderNames.LOCATION,
              HttpHeaderNames.PRAGMA,
              HttpHeaderNames.RETRY_AFTER,
              HttpHeaderNames.SERVER,
              HttpHeaderNames.SET_COOKIE,
              HttpHeaderNames.TRAILER,
              HttpHeaderNames.TRANSFER_ENCODING,
              HttpHeaderNames.UPGRADE,
              HttpHeaderNames.VARY,
              HttpHeaderNames.VIA,
              HttpHeaderNames.WWW_AUTHENTICATE,
              HttpHeaderNames.X_FRAME_OPTIONS,
              AsciiString.cached("alt-svc"),
              AsciiString.cached("grpc-message"),
              AsciiString.cached("grpc-status"),
              AsciiString.cached("referrer-policy"),
              AsciiString.cached("strict-transport-security"),
              AsciiString.cached("x-content-type-options"),
              AsciiString.cached("x-envoy-upstream-service-time"),
              AsciiString.cached("x-powered-by"),
              AsciiString.cached("x-request-id"),
              AsciiString.cached("x-xss-protection")));

  /** Common response header names, each in lower case and in its usual capitalised spelling. */
  static final class ResponseNames {
    private ResponseNames() {}

    /** The shared name whose bytes are exactly these, or null. */
    static @Nullable AsciiString find(byte[] sb, int start, int length) {
      return RESPONSE_NAMES.find(sb, start, length);
    }

    /** The lower-case name of one of these names' capitalised spellings, else null. */
    static @Nullable AsciiString lowerCaseOf(AsciiString name) {
      return RESPONSE_NAMES.lowerCaseOf(name);
    }
  }
}
