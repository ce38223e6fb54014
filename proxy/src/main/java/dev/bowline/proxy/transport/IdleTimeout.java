package dev.bowline.proxy.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} when a channel has neither read nor written for
 * the timeout, as Netty's {@code IdleStateHandler(0, 0, timeout)} does, without its cost per write.
 *
 * <p>{@code IdleStateHandler} turns every write's void promise into a real one and adds a listener
 * to it, to take the time the write completes: a promise and a listener array per write, two to
 * four writes per proxied request. This handler takes the time a write is issued instead, so a
 * channel whose peer has stopped reading counts as active while writes are still being queued; the
 * proxy's stream and upstream idle timeouts only need "no bytes moved either way for that long".
 * The timer is one scheduled task per timeout period, rescheduled for the remainder when there was
 * activity ({@link IdleClock}, which the HTTP/1 codecs keep inside themselves instead of this
 * handler: one pipeline hop less per read and write).
 */
public final class IdleTimeout extends ChannelDuplexHandler {
  private final IdleClock clock;

  /**
   * Adds an idle timeout of {@code timeout} at the end of {@code pipeline}, or nothing when it is
   * zero or negative (Envoy's "0 disables it").
   */
  public static void addTo(io.netty.channel.ChannelPipeline pipeline, Duration timeout) {
    if (timeout.isPositive()) {
      pipeline.addLast(new IdleTimeout(timeout));
    }
  }

  /** A handler for {@code timeout}, which must be positive. */
  public IdleTimeout(Duration timeout) {
    this.clock = new IdleClock(timeout);
  }

  /** A clock for {@code timeout}, or null when it is zero or negative (no idle timeout). */
  static @Nullable IdleClock clockFor(Duration timeout) {
    return timeout.isPositive() ? new IdleClock(timeout) : null;
  }

  /**
   * A clock for a stream idle {@code timeout} and a {@code connection} idle timeout, or null when
   * both are zero or negative.
   */
  static @Nullable IdleClock clockFor(Duration timeout, Duration connection) {
    Duration t = timeout.isPositive() ? timeout : Duration.ZERO;
    Duration c = connection.isPositive() ? connection : Duration.ZERO;
    return t.isZero() && c.isZero() ? null : new IdleClock(t, c);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      clock.start(ctx);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    clock.stop();
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      clock.start(ctx);
    }
    ctx.fireChannelRegistered();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    clock.start(ctx);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    clock.stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    clock.read();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    clock.readComplete();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    clock.write();
    ctx.write(msg, promise);
  }
}
