package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * One upstream HTTP/2 connection of an {@link H2Pool} (Envoy's {@code ActiveClient}), and the last
 * handler of its pipeline, where Netty's multiplexer passes the connection's own frames: the peer's
 * SETTINGS and GOAWAY.
 *
 * <p>It takes a new stream while it is {@link #canTake() ready}: the peer's first SETTINGS came,
 * fewer streams are open on it than {@link #limit} (the cluster's {@code max_concurrent_streams},
 * lowered to the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS} as last received), and it is not
 * draining. It drains after a GOAWAY or once it has started its last allowed stream ({@code
 * max_requests_per_connection}), and then closes when its last stream ends. Touched only from its
 * worker's event loop.
 */
final class H2Connection extends ChannelInboundHandlerAdapter {
  private final H2Pool pool;

  /** The cluster's {@code max_concurrent_streams} when this connection was opened. */
  final int configuredLimit;

  /** The streams the pool counts on this connection for while it connects. */
  final long estimate;

  /** The channel; set right after the connect starts. */
  Channel channel;

  /** Opens streams on {@link #channel}, their pipelines starting with the shared stream codec. */
  Http2StreamChannelBootstrap streams;

  /** The most streams open at once: {@link #configuredLimit}, or the peer's, if lower. */
  long limit;

  /** Streams it may still start before {@code max_requests_per_connection} drains it. */
  long remaining;

  /** Streams open on it (opened and not yet closed). */
  int active;

  /** The peer's first SETTINGS arrived. */
  boolean ready;

  /** It takes no new stream: a GOAWAY came, it reached its last request, or its host left. */
  boolean draining;

  /** The peer broke the protocol on it: its streams end with reason {@code protocol error}. */
  boolean protocolError;

  /** Its channel closed (the pool forgot it). */
  boolean closed;

  /** Envoy's reset reason for the requests waiting on it, should it never come up. */
  String connectFailure = Worker.REMOTE_FAILURE; // the peer closed it before its SETTINGS

  /** Its {@code connection_keepalive}, if the cluster has one. */
  dev.bowline.proxy.transport.@org.jspecify.annotations.Nullable Http2Keepalive keepalive;

  /** Its connect (TCP, and TLS when the cluster has it), failed if it did not come up. */
  io.netty.channel.@org.jspecify.annotations.Nullable ChannelFuture connect;

  H2Connection(H2Pool pool, int configuredLimit, long remaining, long estimate) {
    this.pool = pool;
    this.configuredLimit = configuredLimit;
    this.limit = configuredLimit;
    this.remaining = remaining;
    this.estimate = estimate;
  }

  /** The pool it belongs to. */
  H2Pool pool() {
    return pool;
  }

  void bind(Channel channel, io.netty.channel.ChannelHandler streamCodec) {
    this.channel = channel;
    this.streams = new Http2StreamChannelBootstrap(channel).handler(streamCodec);
  }

  /** Whether a new stream may start on it now. */
  boolean canTake() {
    return ready && !draining && active < limit;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2SettingsFrame s) {
        pool.settings(this, s.settings().maxConcurrentStreams());
      } else if (msg instanceof Http2GoAwayFrame) {
        pool.goAway(this);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      if (active == 0) {
        ctx.close(); // the cluster's idle_timeout, with no stream open
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!protocolError && Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
      // the codec's connection error (what the peer sent breaks the protocol: a GOAWAY whose last
      // stream id grows, a bad frame); the codec answers it with GOAWAY. As Envoy's codec client:
      // counted, the connection closed, its streams reset with reason protocol error
      protocolError = true;
      pool.protocolError();
    }
    ctx.close();
  }
}
