package dev.bowline.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The drain of a downstream HTTP/2 connection, as Envoy drains one (its connection manager's {@code
 * startDrainSequence}, RFC 9113 section 6.8):
 *
 * <ol>
 *   <li>a shutdown notice, GOAWAY NO_ERROR with the last stream id 2^31-1, and a PING: the client
 *       opens no more streams, and those already on their way are still served;
 *   <li>once the PING comes back (every stream the client opened before it read the notice has
 *       arrived by then), or after {@link #FINAL_GOAWAY_BOUND_MILLIS} if it does not (Envoy's
 *       {@code drain_timeout}, the time it waits between the two), GOAWAY NO_ERROR naming the last
 *       stream the connection took: streams after it are refused, which tells the client to retry
 *       them elsewhere;
 *   <li>the connection closes once its streams are done. That wait has no bound of its own: the
 *       listener's drain time ends it (Envoy closes the connections of a drained listener then).
 * </ol>
 *
 * Added to the connection's pipeline when the drain starts, so a connection that never drains pays
 * nothing for it. Event loop only.
 */
final class Http2Drain extends ChannelInboundHandlerAdapter {
  /** The notice's PING payload, to tell its ACK from the client's own pings' ("bowline!"). */
  static final long PING = 0x626f776c696e6521L;

  /**
   * Envoy's default {@code drain_timeout}: the longest wait for the PING before the last GOAWAY.
   */
  static final long FINAL_GOAWAY_BOUND_MILLIS = 5_000;

  private final Http2FrameCodec codec;
  private @Nullable Future<?> bound;
  private boolean done;

  private Http2Drain(Http2FrameCodec codec) {
    this.codec = codec;
  }

  /**
   * Starts draining {@code ch} if it is an HTTP/2 connection that has not started already; returns
   * whether it is one. Any thread.
   */
  static boolean start(Channel ch) {
    if (ch.pipeline().get(Http2FrameCodec.class) == null) {
      return false;
    }
    ch.eventLoop()
        .execute(
            () -> {
              Http2FrameCodec codec = ch.pipeline().get(Http2FrameCodec.class);
              if (codec == null || !ch.isActive() || ch.pipeline().get(Http2Drain.class) != null) {
                return;
              }
              if (codec.connection().goAwaySent()) {
                ch.close(); // a GOAWAY is out already (an error): finish the streams, then close
                return;
              }
              ch.pipeline().addLast(new Http2Drain(codec));
            });
    return true;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.write(
        new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
    ctx.writeAndFlush(new DefaultHttp2PingFrame(PING));
    bound =
        ctx.executor().schedule(() -> last(ctx), FINAL_GOAWAY_BOUND_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2PingFrame p && p.ack() && p.content() == PING) {
      ReferenceCountUtil.release(msg);
      last(ctx);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Future<?> b = bound;
    if (b != null) {
      b.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  /** The last GOAWAY, then the close once the streams it lets finish are done. */
  private void last(ChannelHandlerContext ctx) {
    if (done) {
      return;
    }
    done = true;
    Future<?> b = bound;
    if (b != null) {
      b.cancel(false);
    }
    if (!ctx.channel().isActive()) {
      return;
    }
    // names the last stream the codec created; the close then writes no other GOAWAY
    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
    codec.gracefulShutdownTimeoutMillis(-1); // the listener's drain time bounds the wait
    ctx.channel().close();
  }
}
