package dev.bowline.controlplane.config;

import dev.bowline.api.Message;
import dev.bowline.config.MeshConfigStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The MeshConfig file given by {@code --mesh-config} (istiod's {@code --meshConfig}, by default
 * {@code /etc/istio/config/mesh}) kept in a {@link MeshConfigStore}: read at start, re-read when it
 * changes. Its directory is watched, so both an edit in place and Kubernetes' ConfigMap volume
 * update (an atomic swap of the {@code ..data} link) are seen. A change that does not read or
 * validate is refused by the store and the last good MeshConfig stays; a deleted file keeps it too.
 */
final class MeshConfigFile implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshConfigFile.class.getName());
  private static final Duration SETTLE = Duration.ofMillis(100);

  private final Path file;
  private final MeshConfigStore store;
  private final WatchService watcher;
  private final Thread thread;
  private volatile String lastText = "";

  private MeshConfigFile(Path file, MeshConfigStore store) throws IOException {
    this.file = file;
    this.store = store;
    this.watcher = FileSystems.getDefault().newWatchService();
    Path dir = Objects.requireNonNull(file.getParent(), "file has no directory");
    dir.register(
        watcher,
        StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    this.thread = Thread.ofPlatform().daemon().name("meshconfig-file-watcher").unstarted(this::run);
  }

  /**
   * Reads {@code file} into {@code store} (returning its errors, empty when it was applied) and
   * watches it.
   */
  static MeshConfigFile start(Path file, MeshConfigStore store, List<Message> errors)
      throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    MeshConfigFile f = new MeshConfigFile(abs, store);
    errors.addAll(f.read());
    f.thread.start();
    return f;
  }

  private List<Message> read() throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    lastText = text;
    return store.update(file.toString(), text);
  }

  private void run() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        boolean ours = drain(key);
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
      // The file itself, or a ConfigMap volume's ..data / ..timestamp entries.
      if (e.kind() == StandardWatchEventKinds.OVERFLOW
          || (e.context() instanceof Path p
              && (p.equals(file.getFileName()) || p.toString().startsWith("..")))) {
        ours = true;
      }
    }
    key.reset();
    return ours;
  }

  private void reload() {
    if (!Files.isRegularFile(file)) {
      LOG.log(
          Level.WARNING,
          "event=meshconfig_file_missing file=" + file + " note=the last good MeshConfig stays");
      return;
    }
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      if (text.equals(lastText)) {
        return;
      }
      lastText = text;
      store.update(file.toString(), text); // the store logs a refusal with its first error
    } catch (IOException e) {
      LOG.log(Level.WARNING, "event=meshconfig_file_unreadable file=" + file + " error=" + e);
    }
  }

  @Override
  public void close() {
    try {
      watcher.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "event=meshconfig_watcher_close_failed error=" + e);
    }
    thread.interrupt();
  }
}
