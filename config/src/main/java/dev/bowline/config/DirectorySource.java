package dev.bowline.config;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;
import static java.util.Objects.requireNonNull;

import dev.bowline.api.Decoded;
import dev.bowline.api.Message;
import dev.bowline.api.ResourceCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Feeds a {@link ConfigStore} from a directory tree: every {@code *.yaml}, {@code *.yml} and {@code
 * *.json} file (hidden files and directories, and {@code mesh.yaml}, are skipped) is one source.
 * The tree is watched: a changed file is re-read after a short quiet period, a deleted or
 * renamed-away file deletes its resources, a new directory is watched too. Changes reach the store
 * well within a second.
 */
public final class DirectorySource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DirectorySource.class.getName());

  /** How long events must be quiet before changed files are read (editors write in steps). */
  static final Duration QUIET = Duration.ofMillis(50);

  private final Path root;
  private final ConfigStore store;
  private final ResourceCodec codec;
  private final @Nullable MeshConfigStore mesh;
  private final WatchService watcher;
  private final Map<WatchKey, Path> watched = new HashMap<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running;
  private Thread thread;

  /** A source for {@code root}; nothing happens until {@link #start()}. */
  public DirectorySource(Path root, ConfigStore store, ResourceCodec codec) throws IOException {
    this(root, store, codec, null);
  }

  /** A source for {@code root} that also feeds {@code root/mesh.yaml} to {@code mesh}. */
  public DirectorySource(
      Path root, ConfigStore store, ResourceCodec codec, @Nullable MeshConfigStore mesh)
      throws IOException {
    this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
    this.store = requireNonNull(store, "store");
    this.codec = requireNonNull(codec, "codec");
    this.mesh = mesh;
    this.watcher = root.getFileSystem().newWatchService();
  }

  /**
   * Reads the whole tree into the store, then watches it. Returns when the first read is done: the
   * store then holds everything valid the directory had.
   */
  public synchronized void start() throws IOException {
    if (running) {
      return;
    }
    if (!Files.isDirectory(root)) {
      throw new IOException("not a directory: " + root);
    }
    running = true;
    rescan();
    thread = Thread.ofPlatform().name("bowline-config-watch").daemon().start(this::watchLoop);
    LOG.log(
        Level.INFO, () -> "config watching dir=" + root + " resources=" + store.status().total());
  }

  /** Stops watching; the store keeps what it has. */
  @Override
  public void close() throws IOException {
    running = false;
    watcher.close();
    if (thread != null) {
      try {
        stopped.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** True for files this source reads. */
  static boolean isConfigFile(Path file) {
    return ConfigFiles.isConfigFile(file) && !ConfigFiles.isMeshConfig(file);
  }

  private void watchLoop() {
    try {
      while (running) {
        WatchKey key = watcher.take();
        Set<Path> dirty = new LinkedHashSet<>();
        boolean overflow = collect(key, dirty);
        // Let a burst of writes settle before reading.
        for (WatchKey more;
            (more = watcher.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS)) != null; ) {
          overflow |= collect(more, dirty);
        }
        if (overflow) {
          rescan();
        } else {
          dirty.forEach(this::refresh);
        }
      }
    } catch (ClosedWatchServiceException | InterruptedException e) {
      // closed
    } catch (RuntimeException | IOException e) {
      LOG.log(Level.ERROR, "config watch stopped dir=" + root + " error=" + e);
    } finally {
      stopped.countDown();
    }
  }

  private boolean collect(WatchKey key, Set<Path> dirty) {
    Path dir = watched.get(key);
    boolean overflow = false;
    for (WatchEvent<?> event : key.pollEvents()) {
      if (event.kind() == OVERFLOW || dir == null) {
        overflow = true;
        continue;
      }
      dirty.add(dir.resolve((Path) event.context()));
    }
    if (!key.reset()) {
      watched.remove(key);
    }
    return overflow;
  }

  /** Brings the store in line with one changed path (file or directory, present or gone). */
  private void refresh(Path path) {
    try {
      if (Files.isDirectory(path)) {
        if (!hidden(path)) {
          scan(path);
        }
      } else if (Files.isRegularFile(path)) {
        if (isMeshFile(path)) {
          readMesh(path);
        } else if (isConfigFile(path) && !hidden(path.getParent())) {
          read(path);
        }
      } else if (isMeshFile(path)) {
        mesh.reset(path.toString());
      } else {
        // Gone: a file, or a whole directory of files.
        String prefix = path + java.io.File.separator;
        for (String source : store.sources()) {
          if (source.equals(path.toString()) || source.startsWith(prefix)) {
            List<?> deleted = store.removeSource(source);
            LOG.log(
                Level.INFO,
                () -> "config file removed file=" + source + " deleted=" + deleted.size());
          }
        }
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.log(Level.WARNING, "config read failed path=" + path + " error=" + e);
    }
  }

  private boolean hidden(Path dir) {
    for (Path p = dir; p != null && p.startsWith(root) && !p.equals(root); p = p.getParent()) {
      if (p.getFileName().toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  private void rescan() throws IOException {
    Set<String> seen = new LinkedHashSet<>();
    scan(root, seen);
    for (String source : store.sources()) {
      if (source.startsWith(root + java.io.File.separator) && !seen.contains(source)) {
        store.removeSource(source);
      }
    }
  }

  private void scan(Path dir) throws IOException {
    scan(dir, new LinkedHashSet<>());
  }

  private void scan(Path dir, Set<String> seen) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs)
              throws IOException {
            if (!d.equals(root) && d.getFileName().toString().startsWith(".")) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            if (!watched.containsValue(d)) {
              watched.put(d.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE), d);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile() && isMeshFile(file)) {
              readMesh(file);
            } else if (attrs.isRegularFile() && isConfigFile(file)) {
              seen.add(file.toString());
              read(file);
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private boolean isMeshFile(Path path) {
    return mesh != null && ConfigFiles.isMeshConfig(path) && root.equals(path.getParent());
  }

  private void readMesh(Path file) {
    try {
      mesh.update(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      // Deleted between the event and the read: the delete event follows.
    }
  }

  private void read(Path file) {
    String source = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      text = null;
    } catch (IOException e) {
      // Deleted between the event and the read: the delete event follows.
      return;
    }
    Decoded decoded =
        text == null
            ? new Decoded(
                List.of(),
                List.of(
                    new Decoded.Rejected(
                        source, 1, null, List.of(new Message(source, "", "not UTF-8 text")))))
            : codec.decode(relative(file), text);
    ApplyResult result = store.replaceSource(source, decoded);
    LOG.log(
        Level.DEBUG,
        () ->
            "config file read file="
                + relative(file)
                + " applied="
                + result.applied().size()
                + " unchanged="
                + result.unchanged().size()
                + " deleted="
                + result.deleted().size()
                + " rejected="
                + result.rejected().size());
  }

  private String relative(Path file) {
    return root.relativize(file).toString();
  }
}
