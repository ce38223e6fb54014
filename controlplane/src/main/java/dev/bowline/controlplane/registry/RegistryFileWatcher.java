package dev.bowline.controlplane.registry;

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
import org.jspecify.annotations.Nullable;

/**
 * Keeps a {@link LocalRegistry} in step with its YAML file: loads it at start (an invalid file is
 * an error then), and reloads it whenever it changes. An invalid change is logged with every error
 * and the last good contents stay in force.
 */
public final class RegistryFileWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RegistryFileWatcher.class.getName());

  /** How long the file must be quiet before it is read. */
  private static final Duration SETTLE = Duration.ofMillis(100);

  private final Path file;
  private final LocalRegistry registry;
  private final WatchService watcher;
  private final Thread thread;
  private volatile @Nullable String lastError;

  private RegistryFileWatcher(Path file, LocalRegistry registry) throws IOException {
    this.file = file;
    this.registry = registry;
    this.watcher = FileSystems.getDefault().newWatchService();
    Path dir = Objects.requireNonNull(file.getParent(), "file has no directory");
    dir.register(
        watcher,
        StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    this.thread = Thread.ofPlatform().daemon().name("registry-file-watcher").unstarted(this::run);
  }

  /**
   * Loads {@code file} into {@code registry} and watches it.
   *
   * @throws RegistryFile.InvalidRegistryException if the file is invalid now
   */
  public static RegistryFileWatcher start(Path file, LocalRegistry registry)
      throws IOException, RegistryFile.InvalidRegistryException {
    Path abs = file.toAbsolutePath().normalize();
    registry.replaceAll(RegistryFile.read(abs));
    RegistryFileWatcher w = new RegistryFileWatcher(abs, registry);
    w.thread.start();
    return w;
  }

  /** The error of the last reload that was refused, or null if the last reload was good. */
  public @Nullable String lastError() {
    return lastError;
  }

  private void run() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        boolean ours = drain(key);
        // An editor or a plain write truncates first and writes after: wait until the file has
        // been quiet for a moment so a half-written (say, empty) file is never loaded.
        WatchKey more;
        while ((more = watcher.poll(SETTLE.toMillis(), TimeUnit.MILLISECONDS)) != null) {
          ours |= drain(more);
        }
        if (ours) {
          reload();
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    }
  }

  private boolean drain(WatchKey key) {
    boolean ours = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (e.context() instanceof Path p && p.equals(file.getFileName())) {
        ours = true;
      }
    }
    key.reset();
    return ours;
  }

  private void reload() {
    try {
      registry.replaceAll(RegistryFile.read(file));
      lastError = null;
      LOG.log(
          Level.INFO,
          "event=registry_reloaded file=" + file + " version=" + registry.snapshot().version());
    } catch (IOException | RegistryFile.InvalidRegistryException e) {
      lastError = e.getMessage();
      LOG.log(
          Level.WARNING,
          "event=registry_reload_refused file="
              + file
              + " error=\""
              + e.getMessage()
              + "\" note=the last good registry stays in force");
    }
  }

  @Override
  public void close() {
    try {
      watcher.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "event=registry_watcher_close_failed error=" + e);
    }
    thread.interrupt();
  }
}
