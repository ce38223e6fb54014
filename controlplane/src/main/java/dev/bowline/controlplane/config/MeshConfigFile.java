package dev.bowline.controlplane.config;

import dev.bowline.api.Message;
import dev.bowline.config.FileWatcher;
import dev.bowline.config.MeshConfigStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The MeshConfig file given by {@code --mesh-config} (istiod's {@code --meshConfig}, by default
 * {@code /etc/istio/config/mesh}) kept in a {@link MeshConfigStore}: read at start, re-read when it
 * changes. Its directory is watched, so both an edit in place and Kubernetes' ConfigMap volume
 * update (an atomic swap of the {@code ..data} link) are seen. A change that does not read or
 * validate is refused by the store and the last good MeshConfig stays; a deleted file keeps it too.
 */
final class MeshConfigFile implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshConfigFile.class.getName());

  private final Path file;
  private final MeshConfigStore store;
  private final FileWatcher watcher;
  private volatile String lastText = "";

  private MeshConfigFile(Path file, MeshConfigStore store) throws IOException {
    this.file = file;
    this.store = store;
    this.watcher = FileWatcher.ofConfigMapFile(file, "meshconfig-file-watcher", this::reload);
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
    f.watcher.start();
    return f;
  }

  private List<Message> read() throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    lastText = text;
    return store.update(file.toString(), text);
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
    watcher.close();
  }
}
