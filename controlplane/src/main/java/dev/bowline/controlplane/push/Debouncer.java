package dev.bowline.controlplane.push;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Merges bursts of change events into one push, as istiod's {@code PILOT_DEBOUNCE_AFTER} and {@code
 * PILOT_DEBOUNCE_MAX}: a merged request is released once no event came for {@code quiet}, or once
 * {@code max} has passed since the first event of the burst. Releases happen one at a time on the
 * given scheduler.
 */
public final class Debouncer implements AutoCloseable {
  private final Duration quiet;
  private final Duration max;
  private final ScheduledExecutorService scheduler;
  private final LongSupplier nanoTime;
  private final Consumer<PushRequest> release;

  private @Nullable PushRequest pending;
  private long firstEventNanos;
  private long lastEventNanos;
  private boolean scheduled;

  /**
   * A debouncer releasing into {@code release}.
   *
   * @param quiet release after this long without events (100 ms in Istio)
   * @param max release at the latest this long after the first event of a burst (10 s in Istio)
   * @param scheduler runs the timer and {@code release}; one thread is enough
   * @param nanoTime the clock
   */
  public Debouncer(
      Duration quiet,
      Duration max,
      ScheduledExecutorService scheduler,
      LongSupplier nanoTime,
      Consumer<PushRequest> release) {
    if (quiet.isNegative() || max.isNegative() || max.compareTo(quiet) < 0) {
      throw new IllegalArgumentException(
          "debounce: quiet " + quiet + " and max " + max + " must be >= 0 and quiet <= max");
    }
    this.quiet = quiet;
    this.max = max;
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.release = Objects.requireNonNull(release, "release");
  }

  /** Adds an event; returns at once. */
  public synchronized void submit(PushRequest request) {
    long now = nanoTime.getAsLong();
    if (pending == null) {
      pending = request;
      firstEventNanos = now;
    } else {
      pending = pending.merge(request);
    }
    lastEventNanos = now;
    if (!scheduled) {
      scheduled = true;
      scheduler.schedule(this::check, quiet.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private void check() {
    PushRequest out;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      long quietLeft = lastEventNanos + quiet.toNanos() - now;
      long maxLeft = firstEventNanos + max.toNanos() - now;
      if (pending == null) {
        scheduled = false;
        return;
      }
      if (quietLeft > 0 && maxLeft > 0) {
        scheduler.schedule(this::check, Math.min(quietLeft, maxLeft), TimeUnit.NANOSECONDS);
        return;
      }
      out = pending;
      pending = null;
      scheduled = false;
    }
    release.accept(out);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
