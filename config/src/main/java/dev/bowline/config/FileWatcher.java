package dev.bowline.config;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Watches one file through its directory and runs a callback, on its own daemon thread, after the
 * file has changed (been created, modified or deleted) and events have been quiet for a moment. The
 * callback reads the file itself and decides what a missing or bad file means.
 */
public final class FileWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FileWatcher.class.getName());

  /** How long the file must be quiet before the callback runs. */
  private static final Duration SETTLE = Duration.ofMillis(100);

  private final Path file;
  private final boolean volumeSwaps;
  private final Runnable onChange;
  private final WatchService watcher;
  private final Thread thread;

  private FileWatcher(Path file, boolean volumeSwaps, String threadName, Runnable onChange)
      throws IOException {
    this.file = file;
    this.volumeSwaps = volumeSwaps;
    this.onChange = onChange;
    this.watcher = FileSystems.getDefault().newWatchService();
    Path dir = Objects.requireNonNull(file.getParent(), "file has no directory");
    dir.register(
        watcher,
        StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::run);
  }

  /**
   * Watches {@code file} (an absolute path) from now on: after {@link #start()}, {@code onChange}
   * runs after events for its name, including those that came before the start.
   */
  public static FileWatcher of(Path file, String threadName, Runnable onChange) throws IOException {
    return new FileWatcher(file, false, threadName, onChange);
  }

  /**
   * Like {@link #of}, for a file that may sit in a Kubernetes ConfigMap volume: {@code onChange}
   * also runs after events for the volume's {@code ..data} and {@code ..timestamp} entries (its
   * atomic update) and after lost events (overflow).
   */
  public static FileWatcher ofConfigMapFile(Path file, String threadName, Runnable onChange)
      throws IOException {
    return new FileWatcher(file, true, threadName, onChange);
  }

  /** Starts the thread that runs the callback. */
  public void start() {
    thread.start();
  }

  private void run() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        boolean ours = drain(key);
        // An editor or a plain write truncates first and writes after: wait until the file has
        // been quiet for a moment so a half-written (say, empty) file is never read.
        WatchKey more;
        while ((more = watcher.poll(SETTLE.toMillis(), TimeUnit.MILLISECONDS)) != null) {
          ours |= drain(more);
        }
        if (ours) {
          onChange.run();
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    }
  }

  private boolean drain(WatchKey key) {
    boolean ours = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (volumeSwaps && e.kind() == StandardWatchEventKinds.OVERFLOW) {
        ours = true;
      } else if (e.context() instanceof Path p
          && (p.equals(file.getFileName()) || (volumeSwaps && p.toString().startsWith("..")))) {
        ours = true;
      }
    }
    key.reset();
    return ours;
  }

  @Override
  public void close() {
    try {
      watcher.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "event=file_watcher_close_failed file=" + file + " error=" + e);
    }
    thread.interrupt();
  }
}
