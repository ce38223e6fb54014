package dev.bowline.proxy.http;

import dev.bowline.proxy.stats.Counter;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's {@code FlushWriteAndDelay} close of a downstream HTTP/1 connection whose request was not
 * read whole (a local reply before the body ended, after a {@code 100-continue} say, or a codec
 * error): once the response is written the connection stays open for {@code delayed_close_timeout},
 * or until the client closes, and what the client still sends is read and dropped. Closing at once
 * would answer those bytes with a TCP reset, which can reach the client before it has read the
 * response.
 */
final class DelayedClose {
  private DelayedClose() {}

  /**
   * Closes {@code ch} (its response already written) after {@code delay}; zero: now. If the delay
   * runs out before the client closed, {@code timeouts} counts it (Envoy's {@code
   * downstream_cx_delayed_close_timeout}).
   */
  static void close(Channel ch, Duration delay, Counter timeouts) {
    if (delay.isZero() || !ch.isActive()) {
      ch.close();
      return;
    }
    ch.pipeline().addFirst(Discard.INSTANCE);
    ch.config().setAutoRead(true);
    ch.eventLoop()
        .schedule(
            () -> {
              if (ch.isOpen()) {
                timeouts.inc();
                ch.close();
              }
            },
            delay.toNanos(),
            TimeUnit.NANOSECONDS);
  }

  /** First in the pipeline of a closing connection: drops whatever arrives. */
  @ChannelHandler.Sharable
  private static final class Discard extends ChannelInboundHandlerAdapter {
    static final Discard INSTANCE = new Discard();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
