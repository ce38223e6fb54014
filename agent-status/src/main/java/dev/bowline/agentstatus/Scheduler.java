package dev.bowline.agentstatus;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task after a delay. The agent takes one by constructor so tests can move time; production
 * code wraps a {@link ScheduledExecutorService}.
 */
@FunctionalInterface
public interface Scheduler {

  /** Runs {@code task} once after {@code delay}; the returned handle cancels it. */
  Cancellable schedule(Runnable task, Duration delay);

  /** A scheduled task that can still be called off. */
  @FunctionalInterface
  interface Cancellable {
    /** Cancels the task if it has not started; a running task finishes. */
    void cancel();
  }

  /** A scheduler backed by {@code executor} (which the caller owns and shuts down). */
  static Scheduler of(ScheduledExecutorService executor) {
    requireNonNull(executor, "executor");
    return (task, delay) -> {
      ScheduledFuture<?> f =
          executor.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    };
  }
}
