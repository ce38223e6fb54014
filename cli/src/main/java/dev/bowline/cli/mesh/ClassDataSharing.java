package dev.bowline.cli.mesh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * AppCDS for the JVMs a mesh starts (decision 0014): the classes one kind of JVM loads (control
 * plane, sidecar, gateway, Weather app) are archived once, after the first run serves, and mapped
 * by every later JVM of that kind, which then needs about half the CPU to start (a sidecar to its
 * first xDS request: 1.3 s of CPU without, 0.65 s with).
 *
 * <p>The archive is a <em>static</em> one, HotSpot's oldest and most exercised kind: the first JVM
 * of a kind (the one that wins an exclusive lock file) runs with {@code -XX:DumpLoadedClassList},
 * which HotSpot writes as classes load; once the mesh serves, the runner copies that list and runs
 * {@code java -Xshare:dump} on it in the background at the lowest priority ({@link #dumpCreators}).
 * The dynamic archives used before ({@code jcmd VM.cds dynamic_dump}) crashed a gateway mapping a
 * sidecar's archive 1 run in 4 (SIGSEGV in {@code
 * LambdaProxyClassDictionary::find_lambda_proxy_class}); now each role has its own archive and none
 * is dumped from a running JVM.
 *
 * <p>The archive is named by the kind and a hash of what makes it valid (class path entries and the
 * jars of a {@code lib/} beside the first, with sizes and times; the JVM flags; the {@code java}
 * binary), so a rebuilt jar simply finds no archive and makes a new one; HotSpot checks the class
 * path itself too and runs without a mismatched archive. Archives live in {@code cds/} next to the
 * jar they belong to. {@code BOWLINE_CDS=off} turns all of it off.
 */
final class ClassDataSharing {
  private static final System.Logger LOG = System.getLogger(ClassDataSharing.class.getName());

  /** A creator that died before its archive was written gives up its lock after this long. */
  private static final Duration STALE_LOCK = Duration.ofMinutes(2);

  /** How a creating JVM's command line says where its archive goes. */
  static final String ARCHIVE_PROPERTY = "-Dbowline.cds.archive=";

  private static final String CLASS_LIST_FLAG = "-XX:DumpLoadedClassList=";

  private ClassDataSharing() {}

  /** On unless {@code BOWLINE_CDS=off}. */
  static boolean enabled() {
    return !"off".equalsIgnoreCase(System.getenv("BOWLINE_CDS"));
  }

  /**
   * Writes the archive of every creator among {@code children} (and of this JVM, when {@code
   * ./bowline} started it as a creator: {@code -Dbowline.cds.archive=}) in the background, two at a
   * time at the lowest CPU priority: the classes a serving JVM has loaded are the ones worth
   * archiving. Each archive is dumped to a temporary file and moved in place when complete. The
   * returned handle lets the runner finish them when it stops.
   */
  static Dumps dumpCreators(List<Supervisor.Child> children, String java) {
    List<List<String>> creators = new ArrayList<>();
    for (Supervisor.Child c : children) {
      if (c.alive()) {
        creators.add(c.spec().argv());
      }
    }
    List<String> self = ProcessHandle.current().info().arguments().map(List::of).orElse(List.of());
    if (!self.isEmpty()) {
      List<String> argv = new ArrayList<>();
      argv.add(java);
      argv.addAll(self);
      creators.add(argv);
    }
    return dumpCreatorsOf(creators);
  }

  /** {@link #dumpCreators} for JVMs started with {@code creators} (their command lines). */
  static Dumps dumpCreatorsOf(List<List<String>> creators) {
    java.util.concurrent.ConcurrentLinkedQueue<Dump> queue =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    for (List<String> argv : creators) {
      Dump d = dump(argv);
      if (d != null) {
        queue.add(d);
      }
    }
    Dumps dumps = new Dumps();
    for (int i = 0; i < Math.min(2, queue.size()); i++) {
      dumps.threads.add(
          Thread.ofVirtual()
              .name("cds-dump-" + i)
              .start(
                  () -> {
                    for (Dump d = queue.poll(); d != null; d = queue.poll()) {
                      run(d, dumps);
                    }
                  }));
    }
    return dumps;
  }

  /** The archive dumps of one run, in progress. */
  static final class Dumps {
    private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.Set<Process> running =
        java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean cancelled;

    /** Whether some dump is still running. */
    boolean pending() {
      return threads.stream().anyMatch(Thread::isAlive);
    }

    /**
     * Waits up to {@code limit} for the dumps (the mesh is stopped: they have the CPU now), then
     * kills what is left; a later run makes the archives it lacks.
     */
    void finish(Duration limit) {
      long deadline = System.nanoTime() + limit.toNanos();
      try {
        for (Thread t : threads) {
          long left = deadline - System.nanoTime();
          if (left <= 0 || !t.join(Duration.ofNanos(left))) {
            break;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      cancelled = true;
      running.forEach(Process::destroyForcibly);
    }
  }

  /**
   * The {@code java -Xshare:dump} command that archives what the JVM started with {@code argv}
   * loaded, or empty when that JVM is not a creator. Its flags are kept (the archive must match
   * them), the class list comes from a copy, and the output goes to {@code <archive>.tmp}.
   */
  static List<String> dumpCommand(List<String> argv) {
    Dump d = dump(argv);
    return d == null ? List.of() : d.command();
  }

  /**
   * One archive to dump: {@code command} reads the copy of {@code classList} and writes {@code
   * archive}'s temporary file.
   */
  record Dump(List<String> command, Path classList, Path archive) {
    Path classListCopy() {
      return classList.resolveSibling(classList.getFileName() + ".copy");
    }

    Path tmp() {
      return archive.resolveSibling(archive.getFileName() + ".tmp");
    }
  }

  /** The dump of the JVM started with {@code argv}; null when that JVM is not a creator. */
  private static @org.jspecify.annotations.Nullable Dump dump(List<String> argv) {
    String archive = null;
    String classList = null;
    for (String a : argv) {
      if (a.startsWith(ARCHIVE_PROPERTY)) {
        archive = a.substring(ARCHIVE_PROPERTY.length());
      } else if (a.startsWith(CLASS_LIST_FLAG)) {
        classList = a.substring(CLASS_LIST_FLAG.length());
      }
    }
    if (archive == null || classList == null) {
      return null;
    }
    Dump d = new Dump(List.of(), Path.of(classList), Path.of(archive));
    List<String> out = new ArrayList<>();
    out.add(argv.getFirst());
    for (int i = 1; i < argv.size(); i++) {
      String a = argv.get(i);
      if (a.equals("-cp") || a.equals("-classpath") || a.equals("--class-path")) {
        out.add("-cp");
        out.add(argv.get(i + 1));
        break;
      }
      if (a.equals("-jar")) {
        out.add("-cp");
        out.add(argv.get(i + 1));
        break;
      }
      if (a.startsWith(CLASS_LIST_FLAG)
          || a.startsWith(ARCHIVE_PROPERTY)
          || a.startsWith("-Xlog")) {
        continue;
      }
      if (a.startsWith("-D") || a.startsWith("-X") || a.startsWith("--")) {
        out.add(a);
      }
    }
    out.add("-Xshare:dump");
    out.add("-XX:SharedClassListFile=" + d.classListCopy());
    out.add("-XX:SharedArchiveFile=" + d.tmp());
    out.add("-Xlog:cds=off");
    out.add("-Xlog:cds+map=off");
    return new Dump(List.copyOf(out), d.classList(), d.archive());
  }

  /**
   * {@code classList} without the constant-pool resolutions JDK 25 records for picocli's classes
   * ({@code @cp picocli/...} lines). picocli is compiled for Java 5; resolving those entries at
   * dump time links its classes, and the dump then leaves every linked pre-Java-6 class out of the
   * archive ("Old class has been linked"): 127 classes parsed from the jar at each start, ~40 ms of
   * a proxy's CPU to ready (decision 0036). Without the lines they are archived.
   */
  static String withoutOldClassResolution(String classList) {
    return classList.replaceAll("(?m)^@cp picocli/.*\\R", "");
  }

  /** Runs {@code d} and moves its archive in place. */
  private static void run(Dump d, Dumps dumps) {
    if (dumps.cancelled) {
      return;
    }
    Path copy = d.classListCopy();
    Path original = d.classList();
    Path tmp = d.tmp();
    Path target = d.archive();
    List<String> command = d.command();
    boolean written = false;
    try {
      // The creator is still appending: keep whole lines only.
      String text = Files.readString(original, StandardCharsets.UTF_8);
      int end = text.lastIndexOf('\n');
      Files.writeString(
          copy,
          withoutOldClassResolution(end < 0 ? "" : text.substring(0, end + 1)),
          StandardCharsets.UTF_8);
      List<String> argv = new ArrayList<>();
      // Its own session: Ctrl-C on the runner's terminal must not kill a dump the runner finishes.
      if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
        argv.add("/usr/bin/setsid");
      }
      if (Files.isExecutable(Path.of("/usr/bin/nice"))) {
        argv.addAll(List.of("/usr/bin/nice", "-n", "19"));
      }
      argv.addAll(command);
      Process p =
          new ProcessBuilder(argv)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      dumps.running.add(p);
      int code = p.waitFor();
      dumps.running.remove(p);
      if (code == 0 && Files.isRegularFile(tmp) && Files.size(tmp) > 0) {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        written = true;
        LOG.log(System.Logger.Level.DEBUG, "event=cds_archive_written archive={0}", target);
      } else {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      // no archive this time; a later run tries again once the lock is stale
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        Files.deleteIfExists(copy);
        Files.deleteIfExists(tmp);
        if (written) {
          Files.deleteIfExists(original);
        } else {
          // let the next run try again at once
          Files.deleteIfExists(target.resolveSibling(target.getFileName() + ".lock"));
        }
      } catch (IOException e) {
        // a stale class list costs disk space only
      }
    }
  }

  /**
   * The JVM flags for a JVM of {@code kind} running {@code classPath} with {@code flags}: use the
   * archive if it exists, record its class list if this JVM is the first to ask, else none.
   */
  static List<String> flags(String kind, String java, List<Path> classPath, List<String> flags) {
    if (!enabled() || classPath.isEmpty() || classPath.getFirst().getParent() == null) {
      return List.of();
    }
    Path dir = classPath.getFirst().getParent().resolve("cds");
    Path archive = dir.resolve(kind + "-" + key(java, classPath, flags) + ".jsa");
    if (Files.isRegularFile(archive)) {
      return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off");
    }
    try {
      Files.createDirectories(dir);
      Path lock = dir.resolve(archive.getFileName() + ".lock");
      try {
        Files.createFile(lock);
      } catch (FileAlreadyExistsException e) {
        FileTime t = Files.getLastModifiedTime(lock);
        if (t.toInstant().isAfter(Instant.now().minus(STALE_LOCK))) {
          return List.of(); // another JVM is creating it
        }
        Files.setLastModifiedTime(lock, FileTime.from(Instant.now()));
      }
      prune(dir, kind, archive.getFileName().toString());
      return List.of(
          CLASS_LIST_FLAG + dir.resolve(archive.getFileName() + ".classlist"),
          ARCHIVE_PROPERTY + archive);
    } catch (IOException e) {
      return List.of(); // read-only checkout: run without
    }
  }

  /**
   * Deletes this kind's archives of earlier builds (about 45 MB each). A JVM that maps one keeps
   * its mapping; Linux frees the file when the last one exits.
   */
  private static void prune(Path dir, String kind, String current) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.startsWith(kind + "-") && !name.startsWith(current)) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      // keeping old archives costs disk space only
    }
  }

  private static String key(String java, List<Path> classPath, List<String> flags) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(java.getBytes(StandardCharsets.UTF_8));
      for (String f : flags) {
        sha.update(f.getBytes(StandardCharsets.UTF_8));
      }
      List<Path> entries = new java.util.ArrayList<>(classPath);
      // A jar's manifest Class-Path (bowline.jar -> lib/*.jar) counts too.
      Path lib = classPath.getFirst().resolveSibling("lib");
      if (Files.isDirectory(lib)) {
        try (var s = Files.list(lib)) {
          s.sorted().forEach(entries::add);
        } catch (IOException e) {
          sha.update((byte) 1);
        }
      }
      for (Path p : entries) {
        sha.update(p.toString().getBytes(StandardCharsets.UTF_8));
        try {
          sha.update(Long.toString(Files.size(p)).getBytes(StandardCharsets.UTF_8));
          sha.update(Files.getLastModifiedTime(p).toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          sha.update((byte) 0);
        }
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
