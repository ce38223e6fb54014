package dev.bowline.proxy.accesslog;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes access-log lines to their files from one background thread, so event loops never touch a
 * file: they append a line's bytes to its file's lock-free queue; the writer drains the queues into
 * one buffer per file and writes it, as Envoy's access-log files do: when {@value #FLUSH_BYTES}
 * bytes are pending ({@code min_flush_size}) or every {@code flushInterval} ({@code
 * file_flush_interval_msec}, 1 s by default), whichever comes first. A file that cannot be opened
 * or written is reported once and its lines are dropped; the proxy keeps serving. At most {@code
 * maxQueued} lines wait; beyond that lines are dropped and counted, as Envoy drops when its buffer
 * is full. {@link #reopen} closes every file and opens it again by its path before the next write,
 * as Envoy does on SIGUSR1 (log rotation: the old file was moved away).
 */
public final class AccessLogWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AccessLogWriter.class.getName());

  /** Pending bytes that wake the writer before its interval (Envoy's {@code min_flush_size}). */
  static final int FLUSH_BYTES = 64 * 1024;

  /** One file's queue and, on the writer thread, its stream and buffer. */
  private static final class Sink {
    final String path;
    final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    // writer thread only
    byte[] buffer = new byte[0];
    int used;
    @org.jspecify.annotations.Nullable OutputStream out;
    boolean failed;

    Sink(String path) {
      this.path = path;
    }
  }

  private final ConcurrentHashMap<String, Sink> sinks = new ConcurrentHashMap<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong pendingBytes = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean reopen = new AtomicBoolean();
  private final long flushNanos;
  private final long maxQueued;
  private final Thread thread;

  /** A writer that flushes at least every {@code flushMillis}. */
  public AccessLogWriter(long flushMillis, long maxQueued) {
    this.flushNanos = TimeUnit.MILLISECONDS.toNanos(flushMillis);
    this.maxQueued = maxQueued;
    this.thread = Thread.ofPlatform().name("bowline-access-log").daemon().unstarted(this::run);
  }

  /**
   * Queues {@code line} (newline included) for {@code path}; never blocks. The line is encoded
   * (UTF-8) by the writer thread, not by the caller's event loop.
   */
  public void append(String path, String line) {
    if (queued.incrementAndGet() > maxQueued || closed.get()) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    Sink sink = sinks.get(path);
    if (sink == null) {
      sink = sinks.computeIfAbsent(path, Sink::new);
    }
    sink.queue.add(line);
    if (!started.get() && started.compareAndSet(false, true)) {
      thread.start(); // the first line starts the thread: proxies without access logs have none
    }
    long before = pendingBytes.getAndAdd(line.length()); // chars: bytes for the usual ASCII line
    if (before < FLUSH_BYTES && before + line.length() >= FLUSH_BYTES) {
      LockSupport.unpark(thread); // once per FLUSH_BYTES, not per line
    }
  }

  /**
   * Asks the writer to close every file and open it again by its path (also one that failed) before
   * it writes more: what was queued before goes to the file as it was, lines after to the file now
   * at the path. Never blocks; Envoy's {@code AccessLogManager::reopen} on SIGUSR1.
   */
  public void reopen() {
    reopen.set(true);
    if (started.get()) {
      LockSupport.unpark(thread);
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
    while (true) {
      boolean stopping = closed.get();
      long drained = 0;
      boolean reopening = reopen.getAndSet(false);
      for (Sink sink : sinks.values()) {
        drained += drain(sink);
        if (reopening) {
          closeQuietly(sink.out); // drained first: the lines queued before go to the old file
          sink.out = null;
          sink.failed = false;
        }
      }
      if (stopping && drained == 0) {
        break;
      }
      if (pendingBytes.get() < FLUSH_BYTES && !closed.get()) {
        LockSupport.parkNanos(flushNanos);
      }
    }
    for (Sink sink : sinks.values()) {
      closeQuietly(sink.out);
    }
  }

  /** Writes what {@code sink}'s queue holds now; returns the chars taken from the queue. */
  private long drain(Sink sink) {
    long chars = 0;
    long lines = 0;
    String text;
    while ((text = sink.queue.poll()) != null) {
      queued.decrementAndGet();
      chars += text.length();
      lines++;
      if (sink.failed) {
        continue;
      }
      byte[] line = text.getBytes(StandardCharsets.UTF_8);
      if (sink.used + line.length > sink.buffer.length) {
        if (sink.used > 0) {
          flush(sink);
        }
        if (line.length > sink.buffer.length) {
          sink.buffer = new byte[Math.max(FLUSH_BYTES, line.length)];
        }
      }
      System.arraycopy(line, 0, sink.buffer, sink.used, line.length);
      sink.used += line.length;
    }
    pendingBytes.addAndGet(-chars);
    if (sink.failed) {
      dropped.addAndGet(lines);
      return chars;
    }
    if (sink.used > 0) {
      flush(sink);
    }
    written.addAndGet(lines);
    return chars;
  }

  private void flush(Sink sink) {
    try {
      OutputStream out = sink.out;
      if (out == null) {
        out = new FileOutputStream(sink.path, true);
        sink.out = out;
      }
      out.write(sink.buffer, 0, sink.used);
    } catch (IOException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "event=access_log_write_failed path={0} error={1}",
          sink.path,
          e.getMessage());
      closeQuietly(sink.out);
      sink.out = null;
      sink.failed = true;
    }
    sink.used = 0;
  }

  private static void closeQuietly(@org.jspecify.annotations.Nullable OutputStream out) {
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
