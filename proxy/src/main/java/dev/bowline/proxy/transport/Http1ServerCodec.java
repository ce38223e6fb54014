package dev.bowline.proxy.transport;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's HTTP/1.1 server codec for downstream connections: what Netty's {@code
 * HttpServerCodec} does (its request decoder and response encoder, the methods of requests not yet
 * answered remembered so a response to HEAD has no body and a 2xx to CONNECT no transfer coding, at
 * most 128 of them pipelined, and the connection closed after the response to a request that had
 * both a transfer coding and a content-length), with less made per request.
 *
 * <p>Netty's codec is final and its encoder private. Here the decoder decodes the common, strictly
 * formed request head in one pass ({@link FastHead}): common header names (lower case or
 * capitalised) and methods are shared constants, header values {@link AsciiString}s, which the
 * encoder on the upstream side copies whole instead of a character at a time. Every other request
 * is Netty's decoder's, with the common names shared too. Event loop only.
 */
public final class Http1ServerCodec
    extends IdleClockCodec<HttpRequestDecoder, HttpResponseEncoder> {
  /** Netty's limit of requests decoded and not yet answered. */
  static final int MAX_PIPELINE_DEPTH = 128;

  // Methods of requests decoded and not yet answered, oldest first.
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
  // Close the connection once the next response is written.
  private boolean mustCloseAfterResponse;
  // No request is being decoded: the next byte read begins a head.
  private boolean awaitingHead = true;
  // A head's first bytes were read and the head is not decoded yet (Envoy's stream exists then).
  private boolean headBegun;
  // Some request bytes were read on this connection (Envoy has made its codec by then).
  private boolean bytesSeen;
  // request_headers_timeout (0: none), when the head under way began, and its timer: one task for
  // the heads of a period, scheduled by the first head that finds none (never per request)
  private final long headersTimeoutNanos;
  private long headStart;
  private io.netty.util.concurrent.@Nullable ScheduledFuture<?> headersTimer;
  private @Nullable ChannelHandlerContext headersCtx;
  private final Runnable onHeadersTimer = this::onHeadersTimer;

  /** A codec decoding with {@code config} (limits, headers and trailers factories). */
  public Http1ServerCodec(HttpDecoderConfig config) {
    this(config, java.time.Duration.ZERO);
  }

  /**
   * A codec decoding with {@code config} that fires {@code IdleStateEvent.ALL_IDLE_STATE_EVENT} to
   * the handlers after it when no message was decoded and nothing written for {@code idleTimeout}
   * (zero: never), as an {@link IdleTimeout} right after it would, without a handler of its own.
   */
  public Http1ServerCodec(HttpDecoderConfig config, java.time.Duration idleTimeout) {
    this(config, idleTimeout, java.time.Duration.ZERO, java.time.Duration.ZERO, true);
  }

  /**
   * A codec as {@link #Http1ServerCodec(HttpDecoderConfig, java.time.Duration)} that also fires
   * {@link ConnectionIdleEvent#INSTANCE} once the connection has read and written nothing for
   * {@code connectionIdleTimeout} (zero: never): the connection manager's {@code idle_timeout},
   * checked by the same timer, so nothing is scheduled per request.
   */
  public Http1ServerCodec(
      HttpDecoderConfig config,
      java.time.Duration idleTimeout,
      java.time.Duration connectionIdleTimeout) {
    this(config, idleTimeout, connectionIdleTimeout, java.time.Duration.ZERO, true);
  }

  /**
   * As above, and fires {@link RequestHeadersTimeoutEvent#INSTANCE} when a request head is not
   * whole {@code headersTimeout} after its first byte (zero: never; Envoy's {@code
   * request_headers_timeout}).
   */
  public Http1ServerCodec(
      HttpDecoderConfig config,
      java.time.Duration idleTimeout,
      java.time.Duration connectionIdleTimeout,
      java.time.Duration headersTimeout) {
    this(config, idleTimeout, connectionIdleTimeout, headersTimeout, true);
  }

  /** A codec decoding every head with Netty's decoder ({@code fastHeads} false): tests compare. */
  Http1ServerCodec(HttpDecoderConfig config, boolean fastHeads) {
    this(
        config,
        java.time.Duration.ZERO,
        java.time.Duration.ZERO,
        java.time.Duration.ZERO,
        fastHeads);
  }

  private Http1ServerCodec(
      HttpDecoderConfig config,
      java.time.Duration idleTimeout,
      java.time.Duration connectionIdleTimeout,
      java.time.Duration headersTimeout,
      boolean fastHeads) {
    super(IdleTimeout.clockFor(idleTimeout, connectionIdleTimeout));
    this.headersTimeoutNanos = headersTimeout.isPositive() ? headersTimeout.toNanos() : 0;
    init(new Decoder(config, fastHeads), new Encoder());
  }

  /**
   * Whether a request head has begun and is not decoded yet: its first bytes were read, its end has
   * not been. Envoy's HTTP/1 codec makes the stream at a message's first byte, so such a head is a
   * stream whose {@code stream_idle_timeout} runs (a head that never ends is answered 408); the
   * idle timeout counts from the head's first byte, as that stream's would. Event loop only.
   */
  public boolean headBegun() {
    return headBegun;
  }

  /**
   * Whether any request byte was read on this connection: Envoy makes its connection manager's
   * codec at the first bytes, and a connection idle before them is closed at once, not drained.
   */
  public boolean bytesSeen() {
    return bytesSeen;
  }

  /** A head began: its request_headers_timeout runs from now. */
  private void headBegan(ChannelHandlerContext ctx) {
    headStart = loopClock().nanoTime();
    if (headersTimer == null) {
      headersCtx = ctx;
      headersTimer = ctx.executor().schedule(onHeadersTimer, headersTimeoutNanos, NANOSECONDS);
    }
  }

  private void onHeadersTimer() {
    headersTimer = null;
    ChannelHandlerContext c = headersCtx;
    if (c == null || !headBegun || !c.channel().isActive() || c.isRemoved()) {
      return; // no head under way: the next one schedules again
    }
    long left = headStart + headersTimeoutNanos - System.nanoTime();
    if (left > 0) {
      headersTimer = c.executor().schedule(onHeadersTimer, left, NANOSECONDS); // a later head
      return;
    }
    c.fireUserEventTriggered(RequestHeadersTimeoutEvent.INSTANCE);
  }

  private final class Decoder extends HttpRequestDecoder {
    private final FastHead fast;
    // room for the next fast head's headers: what this connection's heads held at most
    private final ArrayHeaders.Sizing sizing = new ArrayHeaders.Sizing(Http1Decoding.HEAD_CAPACITY);
    private boolean discard;
    // the peer's input ended (close or half-close): no head waits for more bytes
    private boolean inputClosed;

    Decoder(HttpDecoderConfig config, boolean fastHeads) {
      super(config);
      this.fast = new FastHead(config, fastHeads);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (discard) {
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      if (awaitingHead && !headBegun && buffer.isReadable()) {
        headBegun = true; // a head's first bytes: its stream idle timeout counts from here
        bytesSeen = true;
        if (headersTimeoutNanos > 0) {
          headBegan(ctx);
        }
        if (idle != null) {
          idle.read();
        }
      }
      int oldSize = out.size();
      decodeMessage(ctx, buffer, out);
      int size = out.size();
      if (size > oldSize && idle != null) {
        idle.read(); // what the handlers after the codec read
      }
      for (int i = oldSize; i < size; i++) {
        Object m = out.get(i);
        if (m instanceof LastHttpContent) {
          awaitingHead = true;
        }
        if (m instanceof HttpRequest r) {
          awaitingHead = false;
          headBegun = false;
          if (methods.size() >= MAX_PIPELINE_DEPTH) {
            // Netty's answer: decode nothing more, close after the next response
            mustCloseAfterResponse = true;
            discard = true;
            ReferenceCountUtil.release(r);
            while (++i < size) {
              ReferenceCountUtil.release(out.get(i));
            }
            out.clear();
            throw new IllegalStateException("maxPipelineDepth exceeded: " + MAX_PIPELINE_DEPTH);
          }
          methods.add(r.method());
        }
      }
    }

    private void decodeMessage(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (fast.inBody()) {
        fast.body(buffer, out);
        return;
      }
      if (fast.idle()) {
        if (fast.load(buffer)) {
          if (fastHead(buffer, out)) {
            return;
          }
        } else if (!inputClosed && fast.partial(buffer)) {
          return; // the start of a strict head, split across reads: kept until the rest arrives
        }
        fast.toNetty();
      }
      int from = out.size();
      super.decode(ctx, buffer, out);
      fast.nettyDecoded(out, from);
    }

    /**
     * A request head in the common strict form ({@link FastHead}), whole and loaded, with its body
     * framed by content-length or absent: decoded here, true; else false, nothing consumed, and
     * Netty's decoder takes it.
     */
    private boolean fastHead(ByteBuf buffer, List<Object> out) {
      if (!fast.requestLine()) {
        return false;
      }
      HttpRequest request;
      try {
        request =
            new DefaultHttpRequest(
                fast.lineVersion.equals("HTTP/1.1") ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0,
                HttpMethod.valueOf(fast.lineMethod),
                fast.lineUri,
                headers());
      } catch (IllegalArgumentException e) {
        return false; // Netty's decoder meets the same check and answers it
      }
      if (!fast.headers(request.headers(), REQUEST_NAMES)) {
        return false;
      }
      long body = Math.max(fast.contentLength, 0); // a request without one has no body
      fast.consumed(buffer, body);
      out.add(request);
      if (body == 0) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      }
      return true;
    }

    /** A new head's headers: with the proxy's factory, ones that take checked adds as they are. */
    private io.netty.handler.codec.http.HttpHeaders headers() {
      var checked = Http1Decoding.checkedHeaders(headersFactory, sizing);
      return checked != null ? checked : headersFactory.newHeaders();
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      // no more bytes will come: a head's start kept for its end goes to Netty's decoder, which
      // answers a head cut short by the close (or half-close) as before
      inputClosed = true;
      super.decodeLast(ctx, in, out);
      fast.closed(); // a body cut short ends without its last part, as in Netty's decoder
    }

    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
      AsciiString known = REQUEST_NAMES.find(sb, start, length);
      return known != null ? known : super.splitHeaderName(sb, start, length);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      mustCloseAfterResponse = true;
    }
  }

  private final class Encoder extends HttpResponseEncoder {
    // the method of the request the response being written answers (null: none was pending)
    private @Nullable HttpMethod method;

    @Override
    protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, ByteBuf buf) {
      if (headers instanceof ArrayHeaders a) {
        a.encode(buf); // the same bytes as Netty's loop, without its iterator and entries
      } else {
        super.encodeHeaders(headers, buf);
      }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      ChannelPromise p = promise;
      if (mustCloseAfterResponse && msg instanceof LastHttpContent) {
        mustCloseAfterResponse = false;
        p = promise.unvoid().addListener(ChannelFutureListener.CLOSE);
      }
      super.write(ctx, msg, p);
    }

    @Override
    protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
      if (!isAlwaysEmpty
          && HttpMethod.CONNECT.equals(method)
          && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
        // RFC 9110 9.3.6: a 2xx to CONNECT has no content, so no transfer coding either
        msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        return;
      }
      super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // interim (and 101) responses answer no request of the queue
        return super.isContentAlwaysEmpty(msg);
      }
      method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }
  }

  private static final HeaderNameTable REQUEST_NAMES =
      new HeaderNameTable(
          List.of(
              HttpHeaderNames.ACCEPT,
              HttpHeaderNames.ACCEPT_ENCODING,
              HttpHeaderNames.ACCEPT_LANGUAGE,
              HttpHeaderNames.AUTHORIZATION,
              HttpHeaderNames.CACHE_CONTROL,
              HttpHeaderNames.CONNECTION,
              HttpHeaderNames.CONTENT_LENGTH,
              HttpHeaderNames.CONTENT_TYPE,
              HttpHeaderNames.COOKIE,
              HttpHeaderNames.EXPECT,
              HttpHeaderNames.HOST,
              HttpHeaderNames.IF_MODIFIED_SINCE,
              HttpHeaderNames.IF_NONE_MATCH,
              HttpHeaderNames.ORIGIN,
              HttpHeaderNames.PRAGMA,
              HttpHeaderNames.RANGE,
              HttpHeaderNames.REFERER,
              HttpHeaderNames.TE,
              HttpHeaderNames.UPGRADE,
              HttpHeaderNames.USER_AGENT,
              AsciiString.cached("grpc-accept-encoding"),
              AsciiString.cached("grpc-encoding"),
              AsciiString.cached("grpc-timeout"),
              AsciiString.cached("traceparent"),
              AsciiString.cached("tracestate"),
              AsciiString.cached("x-b3-parentspanid"),
              AsciiString.cached("x-b3-sampled"),
              AsciiString.cached("x-b3-spanid"),
              AsciiString.cached("x-b3-traceid"),
              AsciiString.cached("x-forwarded-for"),
              AsciiString.cached("x-forwarded-proto"),
              AsciiString.cached("x-request-id")));
}
