package dev.bowline.proxy.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The timers of every stream of one downstream HTTP/2 connection, by one scheduled task for the
 * connection (decision 0042): each stream's {@code stream_idle_timeout} (no frame read or written
 * on it for that long) and its route timeout (the deadline its request armed). Each stream only
 * records when it was last active and its deadline; the task runs at the earliest time one of them
 * can be due, looks at every stream, fires what is due and schedules itself for the next. A stream
 * pushing its time later costs nothing, so keep-alive traffic schedules one task per timeout period
 * per connection instead of two per stream (a stream idle timer and a route timer, each a scheduled
 * task that its stream's end cancelled). Event loop of the connection only.
 */
final class Http2StreamTimers implements Runnable {
  private final long idleNanos; // 0: no stream idle timeout
  private final EventExecutor loop;
  private @Nullable HttpConnection first; // the streams, linked through HttpConnection.timed*
  private @Nullable ScheduledFuture<?> task;
  private long taskAt;
  private boolean closed;
  private final PrematureResets resets;
  // the connection's idle timeout (no stream for that long), 0: none; fired once
  private final long connectionIdleNanos;
  private final Runnable onConnectionIdle;
  private long idleSince; // when the last stream left (or the connection began)
  private boolean connectionIdleFired;

  /**
   * The timers of a connection on {@code loop} whose streams time out idle after {@code idle}, and
   * which carry the connection's premature-reset count {@code resets} to its streams (one field of
   * the per-stream handler reaches both).
   */
  Http2StreamTimers(Duration idle, EventExecutor loop, PrematureResets resets) {
    this(idle, loop, resets, Duration.ZERO, () -> {});
  }

  /**
   * As above, and the connection's {@code idle_timeout} {@code connectionIdle}: once no stream has
   * been timed for that long (from now, or from when the last stream left), {@code
   * onConnectionIdle} runs, once. No task is scheduled per stream for it: the task that times the
   * streams looks at it too, and the last stream's leaving asks for a task only if none is due
   * earlier.
   */
  Http2StreamTimers(
      Duration idle,
      EventExecutor loop,
      PrematureResets resets,
      Duration connectionIdle,
      Runnable onConnectionIdle) {
    this.idleNanos = idle.isPositive() ? idle.toNanos() : 0;
    this.loop = loop;
    this.resets = resets;
    this.connectionIdleNanos = connectionIdle.isPositive() ? connectionIdle.toNanos() : 0;
    this.onConnectionIdle = onConnectionIdle;
    this.idleSince = System.nanoTime();
    if (connectionIdleNanos > 0) {
      due(idleSince + connectionIdleNanos);
    }
  }

  /** The connection's premature-reset count (rapid reset). */
  PrematureResets resets() {
    return resets;
  }

  /** Times stream {@code s} from now on. */
  // the connection's requests, counted only under max_requests_per_connection
  private int requests;

  /** A request began on one of the connection's streams: how many have, this one included. */
  int requestStarted() {
    return ++requests;
  }

  void add(HttpConnection s) {
    s.timedNext = first;
    s.timedPrev = null;
    if (first != null) {
      first.timedPrev = s;
    }
    first = s;
    long now = System.nanoTime();
    s.lastActivity = now;
    if (idleNanos > 0) {
      due(now + idleNanos);
    }
  }

  /** Stops timing stream {@code s}; the task, if any, runs out on its own. */
  void remove(HttpConnection s) {
    HttpConnection prev = s.timedPrev;
    HttpConnection next = s.timedNext;
    if (prev != null) {
      prev.timedNext = next;
    } else if (first == s) {
      first = next;
    } else {
      return; // not timed
    }
    if (next != null) {
      next.timedPrev = prev;
    }
    s.timedPrev = null;
    s.timedNext = null;
    if (first == null && connectionIdleNanos > 0 && !connectionIdleFired) {
      idleSince = System.nanoTime();
      due(idleSince + connectionIdleNanos); // nothing new when a task is due earlier
    }
  }

  /** Something may be due at {@code at} ({@link System#nanoTime}): the task runs by then. */
  void due(long at) {
    if (closed) {
      return;
    }
    var t = task;
    if (t != null) {
      if (taskAt - at <= 0) {
        return; // it runs first and looks again
      }
      t.cancel(false);
    }
    taskAt = at;
    task = loop.schedule(this, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** The connection is gone: no task from now on. */
  void close() {
    closed = true;
    var t = task;
    task = null;
    if (t != null) {
      t.cancel(false);
    }
  }

  @Override
  public void run() {
    task = null;
    if (closed) {
      return;
    }
    long now = System.nanoTime();
    List<HttpConnection> idle = null;
    List<HttpConnection> timedOut = null;
    for (HttpConnection s = first; s != null; s = s.timedNext) {
      if (s.routeDue(now)) {
        timedOut = add(timedOut, s);
      }
      if (idleNanos > 0 && now - s.lastActivity >= idleNanos) {
        s.lastActivity = now; // once per period, as an idle timer fires
        idle = add(idle, s);
      }
    }
    // fired after the walk: a stream that ends leaves the list
    if (timedOut != null) {
      timedOut.forEach(HttpConnection::onRouteTimeout);
    }
    if (idle != null) {
      idle.forEach(HttpConnection::onStreamIdle);
    }
    long next = Long.MAX_VALUE;
    boolean any = false;
    if (first == null && connectionIdleNanos > 0 && !connectionIdleFired && !closed) {
      if (now - idleSince >= connectionIdleNanos) {
        connectionIdleFired = true;
        onConnectionIdle.run();
      } else {
        next = idleSince + connectionIdleNanos;
        any = true;
      }
    }
    for (HttpConnection s = first; s != null; s = s.timedNext) {
      if (idleNanos > 0) {
        long at = s.lastActivity + idleNanos;
        next = any ? earlier(next, at) : at;
        any = true;
      }
      if (s.routeArmed()) {
        long at = s.routeDeadline();
        next = any ? earlier(next, at) : at;
        any = true;
      }
    }
    if (any) {
      due(next);
    }
  }

  private static long earlier(long a, long b) {
    return a - b <= 0 ? a : b;
  }

  private static List<HttpConnection> add(@Nullable List<HttpConnection> l, HttpConnection s) {
    List<HttpConnection> list = l == null ? new ArrayList<>(2) : l;
    list.add(s);
    return list;
  }
}
