package dev.bowline.proxy.http;

import dev.bowline.proxy.stats.HttpStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.SslHandler;

/**
 * How a downstream connection of a connection manager ends, counted as Envoy's connection manager
 * counts it (its {@code onEvent} and {@code doConnectionClose}, its destructor): {@code
 * downstream_cx_destroy}, and {@code _remote} when the client ended it (its FIN or reset, a read or
 * write error: Envoy's {@code RemoteClose}) or {@code _local} when the proxy did; with a stream
 * open, {@code _active_rq} and its {@code _local_} or {@code _remote_} form. Also the gauges {@code
 * downstream_cx_active}, {@code _http1_active}, {@code _http2_active} and the codec totals, the
 * codec's counted at the connection's first bytes, when Envoy makes its codec; {@code
 * downstream_cx_ssl_total}/{@code _ssl_active} for a connection with TLS under the connection
 * manager, and the histogram {@code downstream_cx_length_ms}.
 *
 * <p>A TLS handshake that fails counts {@code _remote}, whichever side refused: Envoy's SSL socket
 * answers the failed handshake with {@code PostIoAction::Close} from its read (or write), and its
 * connection closes the socket with {@code RemoteClose} for that. Netty's SslHandler closes through
 * the pipeline instead, which would read here as the proxy's close.
 *
 * <p>First in the pipeline (ahead of TLS), so every close a handler asks for passes here before the
 * socket closes; a close that does not (Netty's own at the client's FIN or a failed write) is the
 * client's. An I/O error read from the socket reaches this handler first: the client's too, whoever
 * then closes. Overrides neither reads nor writes, so Netty skips it on the request path: per
 * connection it costs this object and its counts at the end.
 */
final class ConnectionEnd extends ChannelDuplexHandler {
  private static final byte OPEN = 0;
  private static final byte LOCAL = 1;
  private static final byte REMOTE = 2;
  // closed by the proxy from outside the connection manager (the listener's drain time, the
  // premature-reset abort): Envoy's LocalClose, whose open streams its onEvent counts as remote
  private static final byte LOCAL_OUTSIDE = 3;

  private final HttpStats stats;
  private final boolean tls;
  private long startNanos;
  private byte closer = OPEN;
  private byte codec; // 0 none yet, 1 HTTP/1, 2 HTTP/2
  // the connection manager closes with a stream open (an HTTP/1 codec error after its response
  // began): Envoy's doConnectionClose with streams, local_active_rq
  private boolean streamCut;
  // HTTP/1: the connection became a tunnel (CONNECT, an upgrade), its stream open till the end
  private boolean tunnel;

  ConnectionEnd(HttpStats stats, boolean tls) {
    this.stats = stats;
    this.tls = tls;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    startNanos = System.nanoTime();
    stats.downstreamCxTotal().inc();
    stats.downstreamCxActive().increment();
    if (tls) {
      stats.downstreamCxSslTotal().inc();
      stats.downstreamCxSslActive().increment();
    }
    if (!ctx.channel().isActive()) {
      end(ctx); // closed already: no channelInactive will come
    }
  }

  /** The connection on {@code p} has its codec now, HTTP/2 if {@code http2}. Event loop. */
  static void codecMade(ChannelPipeline p, boolean http2) {
    ConnectionEnd e = p.get(ConnectionEnd.class);
    if (e == null || e.codec != 0) {
      return;
    }
    e.codec = http2 ? (byte) 2 : 1;
    if (http2) {
      e.stats.downstreamCxHttp2Total().inc();
      e.stats.downstreamCxHttp2Active().increment();
    } else {
      e.stats.downstreamCxHttp1Total().inc();
      e.stats.downstreamCxHttp1Active().increment();
    }
  }

  /**
   * Ahead of a codec installed before any byte came ({@code codec_type} HTTP1 or HTTP2): Envoy
   * makes its codec at the first bytes, and counts it then. Removes itself at the first read.
   */
  static final class FirstBytes extends ChannelInboundHandlerAdapter {
    private final boolean http2;

    FirstBytes(boolean http2) {
      this.http2 = http2;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      codecMade(ctx.pipeline(), http2);
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(msg);
    }
  }

  /**
   * The proxy closes {@code ch} from outside the connection manager (past its handlers). Event
   * loop, before the close.
   */
  static void closingFromOutside(Channel ch) {
    ConnectionEnd e = ch.pipeline().get(ConnectionEnd.class);
    if (e != null && e.closer == OPEN) {
      e.closer = LOCAL_OUTSIDE;
    }
  }

  /** The connection manager closes {@code ch} with a stream open. Event loop, before the close. */
  static void closingWithStream(Channel ch) {
    ConnectionEnd e = ch.pipeline().get(ConnectionEnd.class);
    if (e != null && e.closer == OPEN) {
      e.streamCut = true;
    }
  }

  /**
   * The HTTP/1 connection on {@code p} became a tunnel (CONNECT or an upgrade): its stream stays
   * open until the connection ends. Event loop.
   */
  static void tunnelled(ChannelPipeline p) {
    ConnectionEnd e = p.get(ConnectionEnd.class);
    if (e != null) {
      e.tunnel = true;
    }
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (closer == OPEN) {
      // SslHandler closes after a failed handshake: Envoy's RemoteClose (see the class comment)
      closer = tls && handshakeFailed(ctx) ? REMOTE : LOCAL;
    }
    ctx.close(promise);
  }

  private static boolean handshakeFailed(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return false;
    }
    var f = ssl.handshakeFuture();
    return f.isDone() && !f.isSuccess();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (closer == OPEN && cause instanceof java.io.IOException) {
      closer = REMOTE; // read from the socket: the client reset it, whoever closes it now
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    end(ctx);
    ctx.fireChannelInactive();
  }

  private void end(ChannelHandlerContext ctx) {
    byte by = closer == OPEN ? REMOTE : closer; // Netty closed it past the handlers: the client
    stats.downstreamCxDestroy().inc();
    (by == REMOTE ? stats.downstreamCxDestroyRemote() : stats.downstreamCxDestroyLocal()).inc();
    // the handlers after this one have not seen the close yet: their streams are still there
    boolean active = streamCut || by != LOCAL && streamOpen(ctx) || by == LOCAL && h2Open(ctx);
    if (active) {
      stats.downstreamCxDestroyActiveRq().inc();
      (by == LOCAL
              ? stats.downstreamCxDestroyLocalActiveRq()
              : stats.downstreamCxDestroyRemoteActiveRq())
          .inc();
    }
    stats.downstreamCxActive().decrement();
    if (tls) {
      stats.downstreamCxSslActive().decrement();
    }
    stats.downstreamCxLengthMs().record((System.nanoTime() - startNanos) / 1_000_000);
    if (codec == 1) {
      stats.downstreamCxHttp1Active().decrement();
    } else if (codec == 2) {
      stats.downstreamCxHttp2Active().decrement();
    }
    codec = 0;
  }

  /**
   * Whether a stream is open: HTTP/2, a stream the codec still has; HTTP/1, a request in flight or
   * a head begun (Envoy's HTTP/1 stream exists from a message's first byte).
   */
  private boolean streamOpen(ChannelHandlerContext ctx) {
    if (codec == 2) {
      return h2Open(ctx);
    }
    if (tunnel) {
      return true;
    }
    HttpConnection h = ctx.pipeline().get(HttpConnection.class);
    return h != null && h.streamOpen();
  }

  /**
   * An HTTP/2 connection the proxy closed with streams still open (a protocol error's GOAWAY): its
   * graceful closes come once no stream is left. An HTTP/1 connection the proxy closes has, in
   * Envoy, ended its stream first (a reset, a local reply), unless {@link #closingWithStream}.
   */
  private boolean h2Open(ChannelHandlerContext ctx) {
    if (codec != 2) {
      return false;
    }
    Http2FrameCodec c = ctx.pipeline().get(Http2FrameCodec.class);
    return c != null && c.connection().numActiveStreams() > 0;
  }
}
