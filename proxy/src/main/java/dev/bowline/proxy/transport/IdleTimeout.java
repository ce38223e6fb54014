package dev.bowline.proxy.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 * activity.
 */
public final class IdleTimeout extends ChannelDuplexHandler {
  private final long timeoutNanos;
  private long lastActivity;
  private boolean reading;
  private @Nullable ScheduledFuture<?> timer;
  private boolean stopped;

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
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive: " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start(ctx);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
    ctx.fireChannelRegistered();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (reading) {
      reading = false;
      lastActivity = System.nanoTime();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    lastActivity = System.nanoTime();
    ctx.write(msg, promise);
  }

  private void start(ChannelHandlerContext ctx) {
    if (timer != null || stopped) {
      return;
    }
    lastActivity = System.nanoTime();
    timer = ctx.executor().schedule(() -> check(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void stop() {
    stopped = true;
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
  }

  private void check(ChannelHandlerContext ctx) {
    if (stopped || !ctx.channel().isOpen()) {
      return;
    }
    long idle = System.nanoTime() - lastActivity;
    long next;
    if (reading || idle < timeoutNanos) {
      next = reading ? timeoutNanos : timeoutNanos - idle;
    } else {
      next = timeoutNanos;
      ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }
    if (!stopped) {
      timer = ctx.executor().schedule(() -> check(ctx), next, TimeUnit.NANOSECONDS);
    }
  }
}
