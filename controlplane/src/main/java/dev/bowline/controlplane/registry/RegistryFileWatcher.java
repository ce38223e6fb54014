package dev.bowline.controlplane.registry;

import dev.bowline.config.FileWatcher;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Keeps a {@link LocalRegistry} in step with its YAML file: loads it at start (an invalid file is
 * an error then), and reloads it whenever it changes. An invalid change is logged with every error
 * and the last good contents stay in force.
 */
public final class RegistryFileWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RegistryFileWatcher.class.getName());

  private final Path file;
  private final LocalRegistry registry;
  private final FileWatcher watcher;
  private volatile @Nullable String lastError;

  private RegistryFileWatcher(Path file, LocalRegistry registry) throws IOException {
    this.file = file;
    this.registry = registry;
    this.watcher = FileWatcher.of(file, "registry-file-watcher", this::reload);
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
    w.watcher.start();
    return w;
  }

  /** The error of the last reload that was refused, or null if the last reload was good. */
  public @Nullable String lastError() {
    return lastError;
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
    watcher.close();
  }
}
