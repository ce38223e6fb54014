package dev.bowline.proxy.http.filter.localratelimit;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Envoy's local rate limit token bucket: starts full with {@code maxTokens}, gains {@code
 * tokensPerFill} every {@code fillIntervalNanos} up to {@code maxTokens}; a request takes one.
 * Lock-free: fills are computed from the clock when a request comes, by whichever loop sees the
 * interval pass first.
 */
final class TokenBucket {
  private final long maxTokens;
  private final long tokensPerFill;
  private final long fillIntervalNanos;
  private final LongSupplier nanoTime;
  private final long start;
  private final AtomicLong fills = new AtomicLong();
  private final AtomicLong tokens;

  TokenBucket(long maxTokens, long tokensPerFill, long fillIntervalNanos, LongSupplier nanoTime) {
    this.maxTokens = maxTokens;
    this.tokensPerFill = tokensPerFill;
    this.fillIntervalNanos = fillIntervalNanos;
    this.nanoTime = nanoTime;
    this.start = nanoTime.getAsLong();
    this.tokens = new AtomicLong(maxTokens);
  }

  /** Takes a token if there is one. */
  boolean tryConsume() {
    refill();
    while (true) {
      long t = tokens.get();
      if (t <= 0) {
        return false;
      }
      if (tokens.compareAndSet(t, t - 1)) {
        return true;
      }
    }
  }

  private void refill() {
    long due = (nanoTime.getAsLong() - start) / fillIntervalNanos;
    long done = fills.get();
    if (due > done && fills.compareAndSet(done, due)) {
      long add = Math.min(maxTokens, (due - done) * tokensPerFill);
      tokens.getAndUpdate(t -> Math.min(maxTokens, t + add));
    }
  }

  long maxTokens() {
    return maxTokens;
  }

  long remaining() {
    return Math.max(0, tokens.get());
  }

  /** Whole seconds (rounded up) until the next fill. */
  long secondsToNextFill() {
    long elapsed = nanoTime.getAsLong() - start;
    long next = (elapsed / fillIntervalNanos + 1) * fillIntervalNanos - elapsed;
    return (next + 999_999_999L) / 1_000_000_000L;
  }
}
