package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The clock of an idle timeout ({@link IdleTimeout}): fires {@link
 * IdleStateEvent#ALL_IDLE_STATE_EVENT} from its handler's context when the channel has neither read
 * nor written for the timeout. A handler owns one and tells it what moves: {@link IdleTimeout} as a
 * handler of its own, the HTTP/1 codecs inside their own read and write paths (one pipeline hop
 * less per read, read completion and write). The timer is one scheduled task per timeout period,
 * rescheduled for the remainder when there was activity. Event loop only.
 */
final class IdleClock {
  private final long timeoutNanos;
  private long lastActivity;
  private boolean reading;
  private @Nullable ScheduledFuture<?> timer;
  private boolean stopped;
  private @Nullable ChannelHandlerContext ctx;
  private final Runnable check = this::check;

  /** A clock for {@code timeout}, which must be positive. */
  IdleClock(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive: " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
  }

  /** Starts the timer for the handler's {@code ctx}, once, unless stopped. */
  void start(ChannelHandlerContext ctx) {
    if (timer != null || stopped) {
      return;
    }
    this.ctx = ctx;
    lastActivity = System.nanoTime();
    timer = ctx.executor().schedule(check, timeoutNanos, TimeUnit.NANOSECONDS);
  }

  /** Stops the timer for good (the channel closed, or the handler left the pipeline). */
  void stop() {
    stopped = true;
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
  }

  /** Something was read; the read counts once the read completes. */
  void read() {
    reading = true;
  }

  /** A read completed. */
  void readComplete() {
    if (reading) {
      reading = false;
      lastActivity = System.nanoTime();
    }
  }

  /** A read completed, at {@code clock}'s time (its batch's, decision 0037 addendum 14). */
  void readComplete(LoopClock clock) {
    if (reading) {
      reading = false;
      lastActivity = clock.nanoTime();
    }
  }

  /** Something is being written. */
  void write() {
    lastActivity = System.nanoTime();
  }

  /** Something is being written, at {@code clock}'s time. */
  void write(LoopClock clock) {
    lastActivity = clock.nanoTime();
  }

  /** When the channel was last active ({@link System#nanoTime}; tests). */
  long lastActivity() {
    return lastActivity;
  }

  private void check() {
    ChannelHandlerContext c = ctx;
    if (stopped || c == null || !c.channel().isOpen()) {
      return;
    }
    long idle = System.nanoTime() - lastActivity;
    long next;
    if (reading || idle < timeoutNanos) {
      next = reading ? timeoutNanos : timeoutNanos - idle;
    } else {
      next = timeoutNanos;
      c.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }
    if (!stopped) {
      timer = c.executor().schedule(check, next, TimeUnit.NANOSECONDS);
    }
  }
}
