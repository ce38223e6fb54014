package dev.bowline.proxy.transport;

import io.netty.util.concurrent.FastThreadLocal;
import org.jspecify.annotations.Nullable;

/**
 * An event loop's clock for the HTTP/1 request path (decision 0037, addendum 14): one {@link
 * System#nanoTime} per read batch instead of one per idle-clock tick, stream start and response.
 * The HTTP/1 codec whose read starts a batch ({@link #begin}) takes the time once; everything the
 * batch does on the same loop (the stream it starts, the upstream write it forwards, the response
 * it relays, both connections' idle clocks) reads that value, and the batch's end ({@link #end}:
 * the codec's read completion, its removal or its channel's end) clears it. Outside a batch (a
 * timer, a task, a write from an HTTP/2 connection) {@link #nanoTime} is {@link System#nanoTime}
 * itself, so a value is never reused past the read that took it. Envoy's dispatcher does the same
 * with its "approximate monotonic time", updated once per loop iteration.
 *
 * <p>The value is the batch's start: what reads it sees a time at most one read batch old (the
 * microseconds one read's decoding and forwarding take), never later than the real time. One per
 * thread; event loop only.
 */
public final class LoopClock {
  private static final FastThreadLocal<LoopClock> CLOCKS =
      new FastThreadLocal<>() {
        @Override
        protected LoopClock initialValue() {
          return new LoopClock();
        }
      };

  private long stamp;
  private @Nullable Object owner;

  private LoopClock() {}

  /** The calling thread's clock; called on the event loop that will use it. */
  public static LoopClock current() {
    return CLOCKS.get();
  }

  /** The batch's time if a batch is open on this loop, else {@link System#nanoTime}. */
  public long nanoTime() {
    return owner != null ? stamp : System.nanoTime();
  }

  /**
   * Opens a batch for {@code who} and takes its time, unless one is open already (a read inside
   * another's batch: the outer one's time stays, and only its owner ends it).
   */
  void begin(Object who) {
    if (owner == null) {
      stamp = System.nanoTime();
      owner = who;
    }
  }

  /** Ends {@code who}'s batch, if it opened the one that is open. */
  void end(Object who) {
    if (owner == who) {
      owner = null;
    }
  }

  /** Whether a batch is open (tests). */
  boolean inBatch() {
    return owner != null;
  }
}
