package dev.bowline.proxy.accesslog;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes access-log lines to their files from one background thread, so event loops never touch a
 * file: they append a line to a lock-free queue; the writer drains it in batches, one write per
 * file per batch, every {@code flushInterval} at the latest (Envoy's {@code
 * file_flush_interval_msec} is 1 s). A file that cannot be opened or written is reported once and
 * its lines are dropped; the proxy keeps serving. At most {@code maxQueued} lines wait; beyond that
 * lines are dropped and counted, as Envoy drops when its buffer is full.
 */
public final class AccessLogWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AccessLogWriter.class.getName());

  private record Line(String path, String text) {}

  private final ConcurrentLinkedQueue<Line> queue = new ConcurrentLinkedQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private final long flushNanos;
  private final long maxQueued;
  private final Map<String, OutputStream> files = new HashMap<>(); // writer thread only
  private final Thread thread;

  /** A writer that flushes at least every {@code flushMillis}. */
  public AccessLogWriter(long flushMillis, long maxQueued) {
    this.flushNanos = TimeUnit.MILLISECONDS.toNanos(flushMillis);
    this.maxQueued = maxQueued;
    this.thread = Thread.ofPlatform().name("bowline-access-log").daemon().unstarted(this::run);
  }

  /** Queues {@code line} for {@code path}; never blocks. */
  public void append(String path, String line) {
    if (queued.incrementAndGet() > maxQueued || closed.get()) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    queue.add(new Line(path, line));
    if (!started.get() && started.compareAndSet(false, true)) {
      thread.start(); // the first line starts the thread: proxies without access logs have none
    }
  }

  /** Lines dropped because the queue was full or a file failed. */
  public long dropped() {
    return dropped.get();
  }

  /** Lines written. */
  public long written() {
    return written.get();
  }

  private void run() {
    Map<String, StringBuilder> batch = new HashMap<>();
    while (true) {
      Line l;
      int n = 0;
      while ((l = queue.poll()) != null) {
        queued.decrementAndGet();
        batch.computeIfAbsent(l.path(), p -> new StringBuilder()).append(l.text());
        if (++n >= 4096) {
          break;
        }
      }
      for (var e : batch.entrySet()) {
        if (e.getValue().isEmpty()) {
          continue;
        }
        write(e.getKey(), e.getValue());
        e.getValue().setLength(0);
      }
      if (n == 0) {
        if (closed.get()) {
          break;
        }
        LockSupport.parkNanos(flushNanos);
      }
    }
    files.values().forEach(AccessLogWriter::closeQuietly);
  }

  private void write(String path, StringBuilder text) {
    OutputStream out = files.get(path);
    long lines = text.chars().filter(c -> c == '\n').count();
    try {
      if (out == null) {
        if (files.containsKey(path)) {
          dropped.addAndGet(lines);
          return; // failed before; reported then
        }
        out = new FileOutputStream(path, true);
        files.put(path, out);
      }
      out.write(text.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      written.addAndGet(lines);
    } catch (IOException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "event=access_log_write_failed path={0} error={1}",
          path,
          e.getMessage());
      if (out != null) {
        closeQuietly(out);
      }
      files.put(path, null);
      dropped.addAndGet(lines);
    }
  }

  private static void closeQuietly(OutputStream out) {
    if (out == null) {
      return;
    }
    try {
      if (out instanceof FileOutputStream f && f.getFD().valid()) {
        f.close();
      }
    } catch (IOException e) {
      // nothing more to do for a log file
    }
  }

  /** Writes what is queued, then stops the thread (waits up to 2 s). */
  @Override
  public void close() {
    closed.set(true);
    if (!started.get()) {
      return;
    }
    LockSupport.unpark(thread);
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
