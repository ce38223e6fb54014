package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * One request as a stream of a pooled upstream HTTP/2 connection. A stream that ends before its
 * response does is reported with Envoy's reset reason: {@code remote refused stream reset} for a
 * RST_STREAM REFUSED_STREAM and for a stream above a GOAWAY's last stream id (which the peer never
 * processed), {@code remote reset} for any other RST_STREAM, {@code connection termination} when
 * the connection went away, {@code protocol error} when the peer's frames are no response (DATA or
 * trailers before the head, a head without a valid {@code :status}, an interim head that ends the
 * stream) or the connection closed on the peer's protocol error; a header block over the cluster's
 * limits is reset by the proxy and reported as {@code remote reset}, as Envoy's codec reports it.
 */
final class H2Stream extends ChannelInboundHandlerAdapter
    implements Upstream, dev.bowline.proxy.transport.RequestScheme {
  static final String REFUSED = "remote refused stream reset";

  static final String REMOTE_RESET = "remote reset";

  private final Host host;
  private final H2Pool pool;
  private final H2Connection connection;
  private @Nullable ResponseListener listener;
  private @Nullable Channel channel;
  private @Nullable String resetReason;
  private boolean released;
  // the final (non-1xx) response head came
  private boolean head;
  // the :scheme to send (the downstream request's, Envoy's router); null: the transport's
  private @Nullable CharSequence scheme;

  H2Stream(Host host, H2Pool pool, H2Connection connection, ResponseListener listener) {
    this.host = host;
    this.pool = pool;
    this.connection = connection;
    this.listener = listener;
    host.begin();
  }

  void opened(Channel stream) {
    this.channel = stream;
  }

  /** The stream could not be opened: gives back what it took. */
  void notOpened() {
    if (listener != null) {
      listener = null;
      host.end();
    }
    release();
  }

  /** Gives the stream's slot on its connection back (once). */
  private void release() {
    if (!released) {
      released = true;
      pool.streamClosed(connection);
    }
  }

  @Override
  public Channel channel() {
    return java.util.Objects.requireNonNull(channel, "stream not open");
  }

  @Override
  public void requestScheme(@Nullable CharSequence scheme) {
    this.scheme = scheme;
  }

  @Override
  public @Nullable CharSequence requestScheme() {
    return scheme;
  }

  @Override
  public void timedOut(boolean beforeResponse) {
    host.timedOut(beforeResponse);
  }

  @Override
  public void abort() {
    if (listener != null) {
      listener = null;
      host.end();
      if (channel != null) {
        host.state.stats.upstreamRqTxReset().inc(); // Envoy: a LocalReset of the stream
      }
    }
    Channel c = channel;
    if (c != null) {
      c.close(); // RST_STREAM; the slot comes back when the stream's channel is inactive
    } else {
      release();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ResponseListener l = listener;
    if (l == null
        || UpstreamConnection.PROTOCOL_ERROR.equals(resetReason) // being reset: nothing more counts
        || !(msg instanceof HttpObject obj)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof io.netty.handler.codec.http.HttpResponse r) {
      int code = r.status().code();
      if (code < 200) {
        // An interim response (100, 102, 103, asked for or not): the final HEADERS follow on this
        // stream. Netty's codec makes most of them a full message, which is not the stream's end.
        l.onUpstreamObject(obj);
        return;
      }
      head = true;
      host.state.httpResult(host.health, code);
      host.responded(code);
    } else if (!head) {
      // DATA, or a header block without :status (Netty's codec makes it trailers), before the
      // response's head: Envoy's codec resets the stream as a messaging error, and its router
      // answers 502 UPE
      ReferenceCountUtil.release(msg);
      protocolError(ctx);
      return;
    }
    if (msg instanceof LastHttpContent) {
      listener = null;
      host.end();
    }
    l.onUpstreamObject(obj);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    // Netty's multiplexer hands RST_STREAM, and a GOAWAY that leaves this stream out, to the
    // stream as events; the stream's channel closes right after
    if (evt instanceof Http2ResetFrame r) {
      resetReason = r.errorCode() == Http2Error.REFUSED_STREAM.code() ? REFUSED : REMOTE_RESET;
      return;
    }
    if (evt instanceof Http2GoAwayFrame g) {
      g.release();
      resetReason = REFUSED; // above the last stream id: the peer never processed it
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ResponseListener l = listener;
    if (l != null) {
      listener = null;
      host.end();
      host.failed();
      host.state.localFailure(host.health, false);
      String reason = resetReason;
      if (reason == null) {
        Channel parent = ctx.channel().parent();
        reason =
            connection.protocolError
                ? UpstreamConnection.PROTOCOL_ERROR
                : parent != null && parent.isActive() ? REMOTE_RESET : "connection termination";
      }
      // Envoy's MultiplexedActiveClientBase::onStreamReset: a peer's reset counts as received (a
      // refused stream does not count), a protocol error as a reset sent, a lost connection as a
      // pending failure
      if (REMOTE_RESET.equals(reason)) {
        host.state.stats.upstreamRqRxReset().inc();
      } else if (UpstreamConnection.PROTOCOL_ERROR.equals(reason)) {
        host.state.stats.upstreamRqTxReset().inc();
      } else if (!REFUSED.equals(reason)) {
        host.state.stats.upstreamRqPendingFailureEject().inc();
      }
      l.onUpstreamReset(reason);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    var h2 = io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause);
    if (dev.bowline.proxy.transport.Http2ConnectionWindow.HeaderOverflow.of(cause)
        || (h2 instanceof io.netty.handler.codec.http2.Http2Exception.HeaderListSizeException hl
            && hl.duringDecode())) {
      headerOverflow(ctx);
      return;
    }
    if (h2 != null) {
      // the stream codec could not make the peer's frames a response (a head without a valid
      // :status): a messaging error, as in Envoy's codec
      protocolError(ctx);
      return;
    }
    ctx.close();
  }

  /**
   * A header block over the cluster's {@code max_headers_count} or header list size, as Envoy's
   * codec takes it ({@code saveHeader}): {@code http2.header_overflow} counted, RST_STREAM
   * INTERNAL_ERROR (nghttp2's answer to the failed header callback), and the stream's end reported
   * as {@code onStreamClose} reports a reset that was no messaging error: {@code remote reset}
   * (counted in {@code upstream_rq_rx_reset}; Envoy's router answers 503 {@code UR}).
   */
  private void headerOverflow(ChannelHandlerContext ctx) {
    host.state.stats.http2HeaderOverflow().inc();
    if (resetReason == null) {
      resetReason = REMOTE_RESET;
    }
    ctx.writeAndFlush(
        new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
    ctx.close();
  }

  /**
   * The peer's frames on this stream are no valid response: reset with RST_STREAM PROTOCOL_ERROR,
   * and the request ends with Envoy's reset reason {@code protocol error} (its router: 502 UPE).
   */
  private void protocolError(ChannelHandlerContext ctx) {
    if (resetReason == null) {
      resetReason = UpstreamConnection.PROTOCOL_ERROR;
    }
    ctx.writeAndFlush(
        new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
    ctx.close();
  }
}
