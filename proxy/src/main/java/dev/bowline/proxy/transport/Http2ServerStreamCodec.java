package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseCombiner;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's codec between an HTTP/2 server stream's frames and HTTP/1 objects (decision 0042), in
 * place of Netty's {@code Http2StreamFrameToHttpObjectCodec(true)}: the same messages, made in one
 * pass.
 *
 * <p>A request's HEADERS become the request with its headers added once, without a second
 * validation: the frame codec's HPACK decoder has already refused what Netty's HTTP/1 header map
 * would refuse (names that are no lower-case tokens, values with control characters other than tab,
 * or starting with a space or tab; its {@code DefaultHttp2Headers} validates both), so the adds
 * skip it ({@link ArrayHeaders#addChecked}). The conversion keeps Netty's rules: {@code :authority}
 * becomes {@code host}, {@code cookie} crumbs are joined with {@code "; "}, a {@code trailer}
 * header goes, a request without {@code content-length} whose body follows is chunked, and a {@code
 * :path} that is no safe request-target (a space, CR or LF), a missing {@code :method} or {@code
 * :path} is a {@link DecoderException} for the handler after it, as Netty's codec raises (the proxy
 * answers it as invalid messaging). The request line is checked before anything is allocated, so
 * nothing leaks on the way (Netty's {@code toFullHttpRequest} allocates the content buffer first
 * and loses it when the request line is refused). Anything uncommon (CONNECT, a literal {@code
 * host} header, {@code x-http2-*} names, other pseudo-headers, trailers, informational statuses) is
 * converted by Netty's {@link HttpConversionUtil} itself. What this codec leaves out by design:
 * Netty's {@code x-http2-scheme} and {@code x-http2-stream-id} on requests, which the proxy removes
 * at once (it forwards neither): a request's {@code :scheme} goes to the stream's last handler
 * instead ({@link RequestScheme}), for the connection manager and the router.
 *
 * <p>A response head becomes {@link Http2Headers} in one pass, its names lower-cased (a shared
 * constant for common capitalised names instead of a copy each), connection-specific headers
 * dropped as Netty drops them, without validating again what the HTTP/1 header map validated on
 * every add. Bodies and trailers are framed as Netty frames them.
 *
 * <p>Shareable and without state of its own, so one instance serves every stream of a connection.
 * Given a stream handler, it is also the handler the multiplexer puts on each stream: it adds the
 * stream's handler after itself once, with nothing to remove after (a {@code ChannelInitializer}
 * adds and removes itself per stream). Event loop only.
 */
@ChannelHandler.Sharable
public final class Http2ServerStreamCodec extends ChannelDuplexHandler {
  private static final AsciiString COOKIE = HttpHeaderNames.COOKIE;
  private static final AsciiString CONTENT_LENGTH = HttpHeaderNames.CONTENT_LENGTH;
  private static final AsciiString TE = HttpHeaderNames.TE;
  private static final AsciiString AUTHORITY = Http2Headers.PseudoHeaderName.AUTHORITY.value();
  private static final AsciiString METHOD = Http2Headers.PseudoHeaderName.METHOD.value();
  private static final AsciiString PATH = Http2Headers.PseudoHeaderName.PATH.value();
  private static final AsciiString SCHEME = Http2Headers.PseudoHeaderName.SCHEME.value();

  // The connection-specific names HTTP/2 forbids (RFC 9113 8.2.2) and host, as Netty's
  // HttpConversionUtil drops them on the way to HTTP/2; the connection's own tokens are dropped
  // too. Not Netty's x-http2-* extension names: to Envoy they are headers like any other, which
  // its HTTP/2 codec sends on (the x-http2-stream-id Netty's conversion adds to an HTTP/2
  // upstream's head is removed before here, by the stream)
  private static final Set<AsciiString> NOT_FORWARDED =
      Set.of(
          HttpHeaderNames.CONNECTION,
          HttpHeaderNames.KEEP_ALIVE,
          HttpHeaderNames.PROXY_CONNECTION,
          HttpHeaderNames.TRANSFER_ENCODING,
          HttpHeaderNames.HOST,
          HttpHeaderNames.UPGRADE);

  // Netty's extension names, which its conversion to HTTP/2 drops and the proxy forwards
  private static final AsciiString[] EXTENSION_NAMES = {
    HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(),
    HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(),
    HttpConversionUtil.ExtensionHeaderNames.PATH.text(),
    HttpConversionUtil.ExtensionHeaderNames.PROTOCOL.text()
  };

  private final @Nullable Consumer<ChannelPipeline> streamHandlers;

  /** A codec alone; the stream's handlers come after it by other means. */
  public Http2ServerStreamCodec() {
    this(null);
  }

  /**
   * A codec that, put on a stream's pipeline, has {@code streamHandlers} add the stream's handlers
   * after itself (null: nothing).
   */
  public Http2ServerStreamCodec(@Nullable Consumer<ChannelPipeline> streamHandlers) {
    this.streamHandlers = streamHandlers;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (streamHandlers != null) {
      streamHandlers.accept(ctx.pipeline());
    }
  }

  // ---- inbound: frames to HTTP/1 objects ----------------------------------------------------

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame frame) {
      if (frame.headers().method() != null && ctx.pipeline().last() instanceof RequestScheme r) {
        // a request's :scheme goes to the stream's handler, not into a header (RequestScheme)
        r.requestScheme(frame.headers().scheme());
      }
      HttpObject decoded;
      try {
        decoded = decode(frame);
      } catch (Exception e) {
        // as Netty's MessageToMessageDecoder raises a decoding failure
        ctx.fireExceptionCaught(e instanceof DecoderException d ? d : new DecoderException(e));
        return;
      }
      ctx.fireChannelRead(decoded);
    } else if (msg instanceof Http2DataFrame frame) {
      // the frame's content is the content's: handed on, neither retained nor released
      ByteBuf content = frame.content();
      ctx.fireChannelRead(
          frame.isEndStream()
              ? new DefaultLastHttpContent(content, new LazyHeaders())
              : new DefaultHttpContent(content));
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  /** The HTTP/1 object a request stream's HEADERS frame makes; Netty's rules. */
  static HttpObject decode(Http2HeadersFrame frame) throws Http2Exception {
    Http2Headers headers = frame.headers();
    Http2FrameStream stream = frame.stream();
    int id = stream == null ? 0 : stream.id();
    CharSequence status = headers.status();
    CharSequence method = headers.method();
    if (frame.isEndStream() && method == null && status == null) {
      // trailers (rare): Netty's conversion, into a trailers map with Netty's validation
      LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
      HttpConversionUtil.addHttp2ToHttpHeaders(
          id, headers, last.trailingHeaders(), HttpVersion.HTTP_1_1, true, true);
      return last;
    }
    boolean full = frame.isEndStream() || status != null && informational(status);
    HttpObject fast = status == null && method != null ? request(headers, method, full) : null;
    if (fast != null) {
      return fast;
    }
    // anything uncommon: Netty's conversion, with an empty content that cannot leak
    if (full) {
      return HttpConversionUtil.toFullHttpRequest(id, headers, Unpooled.EMPTY_BUFFER, true);
    }
    HttpMessage req = HttpConversionUtil.toHttpRequest(id, headers, true);
    if (!req.headers().contains(CONTENT_LENGTH)) {
      req.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return req;
  }

  /** Netty's test for a 1xx status other than 101 ({@code isInformationalResponseHeaderFrame}). */
  private static boolean informational(CharSequence status) {
    if (status.length() == 3) {
      char c0 = status.charAt(0);
      char c1 = status.charAt(1);
      char c2 = status.charAt(2);
      return c0 == '1' && c1 >= '0' && c1 <= '9' && c2 >= '0' && c2 <= '9' && c2 != '1';
    }
    return false;
  }

  /**
   * The request in one pass, or null when {@code headers} have anything {@link HttpConversionUtil}
   * treats specially beyond {@code :authority} and cookies (then it converts them).
   */
  private static @Nullable HttpObject request(
      Http2Headers headers, CharSequence method, boolean full) {
    if (HttpMethod.CONNECT.asciiName().contentEqualsIgnoreCase(method)) {
      return null; // its path is its authority, and extended CONNECT keeps :path and :protocol
    }
    CharSequence path = headers.path();
    if (path == null) {
      return null; // Netty's conversion says what is missing
    }
    String uri = path.toString();
    HttpMethod m = HttpMethod.valueOf(method.toString());
    // the request line first (the request's constructor refuses a space, CR or LF in the
    // target), before anything is allocated that could leak
    ArrayHeaders h = Http1Decoding.checkedHeaders();
    HttpMessage req =
        full
            ? new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1, m, uri, Unpooled.EMPTY_BUFFER, h, new LazyHeaders())
            : new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri, h);
    boolean contentLength = false;
    CharSequence cookie = null;
    StringBuilder cookies = null;
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      CharSequence name = e.getKey();
      CharSequence value = e.getValue();
      int length = name.length();
      if (length == 0) {
        return null;
      }
      if (name.charAt(0) == ':') {
        if (AUTHORITY.contentEquals(name)) {
          h.addChecked(HttpHeaderNames.HOST, AsciiString.of(value));
        } else if (!(METHOD.contentEquals(name)
            || PATH.contentEquals(name)
            || SCHEME.contentEquals(name))) {
          return null; // :protocol, :status or unknown
        }
        continue;
      }
      char c = name.charAt(0);
      if (c == 'x' && length > 7 && name.charAt(1) == '-' && name.charAt(6) == '2') {
        if (AsciiString.regionMatches(name, true, 0, "x-http2-", 0, 8)) {
          return null; // Netty drops client headers with its extension names
        }
      } else if (c == 'h' && length == 4 && HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
        return null; // a literal host: Netty checks it against :authority
      } else if (c == 't'
          && (HttpHeaderNames.TRAILER.contentEqualsIgnoreCase(name)
              || HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name))) {
        return null; // Netty removes them
      } else if (c == 'c') {
        if (COOKIE.contentEquals(name)) {
          // joined into one header at the end, as Netty joins them (RFC 9113 8.2.3)
          if (cookie == null) {
            cookie = value;
          } else {
            if (cookies == null) {
              cookies = new StringBuilder(cookie.length() + value.length() + 16).append(cookie);
            }
            cookies.append("; ").append(value);
          }
          continue;
        }
        if (HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(name)) {
          return null; // Netty's keep-alive setting removes it
        }
        contentLength |= length == 14 && CONTENT_LENGTH.contentEqualsIgnoreCase(name);
      }
      h.addChecked(name, value);
    }
    if (cookie != null) {
      h.addChecked(COOKIE, cookies == null ? cookie : cookies.toString());
    }
    if (!full && !contentLength) {
      h.addChecked(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return req;
  }

  // ---- outbound: HTTP/1 objects to frames -----------------------------------------------------

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (ctx.pipeline().last() instanceof StreamActivity a) {
      a.streamActive(); // the stream's last handler keeps its idle time
    }
    if (!(msg instanceof HttpObject obj)) {
      ctx.write(msg, promise);
      return;
    }
    Object first;
    @Nullable Object second = null;
    @Nullable Object third = null;
    try {
      if (obj instanceof HttpResponse res) {
        HttpResponseStatus status = res.status();
        if (status.codeClass() == HttpStatusClass.INFORMATIONAL && status.code() != 101) {
          if (!(res instanceof FullHttpResponse)) {
            throw new EncoderException(status + " must be a FullHttpResponse");
          }
          // an interim response: HEADERS only, the stream goes on
          Http2Headers headers = responseHeaders(res);
          ReferenceCountUtil.release(res);
          ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
          return;
        }
      }
      if (obj instanceof HttpMessage message) {
        boolean endStream =
            obj instanceof FullHttpMessage full
                && !full.content().isReadable()
                && full.trailingHeaders().isEmpty();
        first = new DefaultHttp2HeadersFrame(responseHeaders(message), endStream);
        if (obj instanceof LastHttpContent last) {
          Object[] rest = lastContent(last);
          second = rest[0];
          third = rest[1];
          if (second == null) {
            second = third;
            third = null;
          }
        }
      } else if (obj instanceof LastHttpContent last) {
        Object[] rest = lastContent(last);
        first = rest[0] != null ? rest[0] : rest[1];
        second = rest[0] != null ? rest[1] : null;
      } else if (obj instanceof HttpContent content) {
        first = new DefaultHttp2DataFrame(content.content(), false);
      } else {
        ctx.write(msg, promise); // no HTTP/1 object this codec knows
        return;
      }
    } catch (RuntimeException e) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(e instanceof EncoderException x ? x : new EncoderException(e));
      return;
    }
    if (second == null) {
      ctx.write(first, promise);
    } else if (promise.isVoid()) {
      ctx.write(first, promise);
      ctx.write(second, promise);
      if (third != null) {
        ctx.write(third, promise);
      }
    } else {
      PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
      combiner.add(ctx.write(first));
      combiner.add(ctx.write(second));
      if (third != null) {
        combiner.add(ctx.write(third));
      }
      combiner.finish(promise);
    }
  }

  /**
   * The frames of a message's last part, as Netty frames it: its DATA (none for a full message
   * without content; an empty one with END_STREAM for a last part without content or trailers),
   * then its trailers' HEADERS if it has trailers. The content is the DATA frame's, or released.
   */
  private static @Nullable Object[] lastContent(LastHttpContent last) {
    HttpHeaders trailers = last.trailingHeaders();
    boolean noTrailers = trailers.isEmpty();
    Object tail =
        noTrailers
            ? null
            : new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(trailers, true), true);
    boolean filler = !(last instanceof FullHttpMessage) && noTrailers;
    Object data = null;
    if (last.content().isReadable() || filler) {
      data = new DefaultHttp2DataFrame(last.content(), noTrailers);
    } else {
      last.release(); // an empty content that no frame carries
    }
    return new Object[] {data, tail};
  }

  /**
   * A response head as HTTP/2 headers: {@code :status}, then the headers in order with their names
   * in lower case, without those HTTP/2 forbids or the connection names (Netty's rules, except that
   * its {@code x-http2-*} names are forwarded, as Envoy forwards them; a {@code te} or {@code
   * cookie} header, unusual in a response, takes Netty's conversion).
   */
  static Http2Headers responseHeaders(HttpMessage message) {
    if (!(message instanceof HttpResponse res)) {
      return HttpConversionUtil.toHttp2Headers(message, true);
    }
    HttpHeaders in = res.headers();
    if (in.contains(HttpHeaderNames.CONNECTION)) {
      return converted(res); // its tokens name more to drop
    }
    // validated on every add to the HTTP/1 map already (the same rules: token names, values
    // without control characters), and the names are lower-cased here
    DefaultHttp2Headers out = new DefaultHttp2Headers(false, in.size());
    out.status(res.status().codeAsText());
    var it = in.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      AsciiString name = lowerCase(e.getKey());
      if (NOT_FORWARDED.contains(name)) {
        continue;
      }
      if (name.length() == 2 && TE.contentEquals(name) || COOKIE.contentEquals(name)) {
        return converted(res);
      }
      out.add(name, e.getValue());
    }
    return out;
  }

  /** Netty's conversion of {@code res}, with the extension names it drops put back. */
  private static Http2Headers converted(HttpResponse res) {
    Http2Headers out = HttpConversionUtil.toHttp2Headers(res, true);
    for (AsciiString name : EXTENSION_NAMES) {
      if (!out.contains(name)) {
        for (String value : res.headers().getAll(name)) {
          out.add(name, value);
        }
      }
    }
    return out;
  }

  /** {@code name} in lower case: a shared constant for a common capitalised name, else a copy. */
  private static AsciiString lowerCase(CharSequence name) {
    if (name instanceof AsciiString a) {
      AsciiString shared = Http1ClientCodec.ResponseNames.lowerCaseOf(a);
      if (shared != null) {
        return shared;
      }
      return a.toLowerCase();
    }
    return AsciiString.of(name).toLowerCase();
  }
}
