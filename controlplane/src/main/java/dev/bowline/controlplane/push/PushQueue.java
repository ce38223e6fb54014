package dev.bowline.controlplane.push;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * The queue between "a push is needed" and "this connection is being pushed", as istiod's push
 * queue: at most one pending request per connection (later ones merge into it, so memory stays
 * bounded by the number of connections however many events arrive), and at most {@code concurrency}
 * connections pushed at once, so a reconnect storm can't run every push at the same time. A
 * connection being pushed is not pushed again in parallel: requests arriving meanwhile wait for the
 * running push to end.
 *
 * @param <C> the connection type
 */
public final class PushQueue<C> implements AutoCloseable {
  private final Map<C, PushRequest> pending = new LinkedHashMap<>();
  private final Map<C, PushRequest> arrivedWhileRunning = new HashMap<>();
  private final java.util.Set<C> running = new java.util.HashSet<>();
  private final ExecutorService workers;
  private final BiConsumer<C, PushRequest> push;
  private boolean closed;

  /**
   * A queue running {@code push} on at most {@code concurrency} virtual threads.
   *
   * @param push pushes one connection; returns when the push has been handed to the transport
   */
  public PushQueue(int concurrency, String name, BiConsumer<C, PushRequest> push) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("push concurrency " + concurrency + ": must be >= 1");
    }
    this.push = Objects.requireNonNull(push, "push");
    this.workers =
        Executors.newFixedThreadPool(concurrency, Thread.ofVirtual().name(name + "-", 0).factory());
    for (int i = 0; i < concurrency; i++) {
      workers.execute(this::work);
    }
  }

  /** Queues a push of {@code connection}, merging with one already pending. */
  public synchronized void enqueue(C connection, PushRequest request) {
    if (closed) {
      return;
    }
    if (running.contains(connection)) {
      arrivedWhileRunning.merge(connection, request, PushRequest::merge);
      return;
    }
    pending.merge(connection, request, PushRequest::merge);
    notify();
  }

  /** Forgets a connection that went away. */
  public synchronized void remove(C connection) {
    pending.remove(connection);
    arrivedWhileRunning.remove(connection);
  }

  /** The number of connections waiting for a push. */
  public synchronized int pendingCount() {
    return pending.size() + arrivedWhileRunning.size();
  }

  /**
   * True when no push is pending or running: every push queued so far has been handed to its
   * connection (which sent it, or found nothing changed for it).
   */
  public synchronized boolean idle() {
    return pending.isEmpty() && arrivedWhileRunning.isEmpty() && running.isEmpty();
  }

  private void work() {
    while (true) {
      C c;
      PushRequest r;
      synchronized (this) {
        while (pending.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
        var it = pending.entrySet().iterator();
        var e = it.next();
        it.remove();
        c = e.getKey();
        r = e.getValue();
        running.add(c);
      }
      try {
        push.accept(c, r);
      } catch (RuntimeException e) {
        System.getLogger(PushQueue.class.getName())
            .log(
                System.Logger.Level.WARNING,
                "event=push_failed connection=" + c + " error=" + e,
                e);
      } finally {
        synchronized (this) {
          running.remove(c);
          PushRequest more = arrivedWhileRunning.remove(c);
          if (more != null) {
            pending.merge(c, more, PushRequest::merge);
            notify();
          }
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    workers.shutdownNow();
  }
}
