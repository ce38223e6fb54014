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
  private final long timeoutNanos; // 0: no IdleStateEvent
  // the connection idle timeout (ConnectionIdleEvent), 0: none; fired once per quiet period
  private final long connectionNanos;
  // when ALL_IDLE_STATE_EVENT and ConnectionIdleEvent last fired (System.nanoTime); both start a
  // nanosecond before the first activity, so neither has fired for its quiet period
  private long streamFiredAt;
  private long connectionFiredAt;
  private long lastActivity;
  private boolean reading;
  private @Nullable ScheduledFuture<?> timer;
  private boolean stopped;
  private @Nullable ChannelHandlerContext ctx;
  private final Runnable check = this::check;

  /** A clock for {@code timeout}, which must be positive. */
  IdleClock(Duration timeout) {
    this(positive(timeout), Duration.ZERO);
  }

  private static Duration positive(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive: " + timeout);
    }
    return timeout;
  }

  /**
   * A clock that fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} after {@code timeout} without
   * activity (and again each further {@code timeout}), and {@link ConnectionIdleEvent#INSTANCE}
   * once after {@code connectionTimeout} without activity; zero turns either off, not both.
   */
  IdleClock(Duration timeout, Duration connectionTimeout) {
    if (timeout.isNegative() || connectionTimeout.isNegative()) {
      throw new IllegalArgumentException("idle timeouts must not be negative: " + timeout);
    }
    if (timeout.isZero() && connectionTimeout.isZero()) {
      throw new IllegalArgumentException("an idle timeout must be positive");
    }
    this.timeoutNanos = timeout.toNanos();
    this.connectionNanos = connectionTimeout.toNanos();
  }

  /** The period between checks while the channel is active: the shorter timeout. */
  private long period() {
    return timeoutNanos == 0
        ? connectionNanos
        : connectionNanos == 0 ? timeoutNanos : Math.min(timeoutNanos, connectionNanos);
  }

  /** Starts the timer for the handler's {@code ctx}, once, unless stopped. */
  void start(ChannelHandlerContext ctx) {
    if (timer != null || stopped) {
      return;
    }
    this.ctx = ctx;
    lastActivity = System.nanoTime();
    streamFiredAt = connectionFiredAt = lastActivity - 1;
    timer = ctx.executor().schedule(check, period(), TimeUnit.NANOSECONDS);
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
    long now = System.nanoTime();
    long last = lastActivity;
    long next;
    if (reading) {
      next = period();
    } else {
      long idle = now - last;
      boolean fireStream = false;
      boolean fireConnection = false;
      next = Long.MAX_VALUE;
      if (timeoutNanos > 0) {
        // due a period after the activity, or after its last firing if that came later
        long since = streamFiredAt - last > 0 ? streamFiredAt : last;
        long due = timeoutNanos - (now - since);
        if (due <= 0) {
          fireStream = true;
          streamFiredAt = now;
          due = timeoutNanos;
        }
        next = due;
      }
      if (connectionNanos > 0) {
        long due;
        if (connectionFiredAt - last > 0) {
          due = connectionNanos; // fired for this quiet period: look again later
        } else {
          due = connectionNanos - idle;
          if (due <= 0) {
            fireConnection = true;
            connectionFiredAt = now;
            due = connectionNanos;
          }
        }
        next = Math.min(next, due);
      }
      if (fireStream) {
        c.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
      }
      if (fireConnection && !stopped && c.channel().isOpen()) {
        c.fireUserEventTriggered(ConnectionIdleEvent.INSTANCE);
      }
    }
    if (!stopped) {
      timer = c.executor().schedule(check, next, TimeUnit.NANOSECONDS);
    }
  }
}
