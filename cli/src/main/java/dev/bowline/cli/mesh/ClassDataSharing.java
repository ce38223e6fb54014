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
import java.util.HexFormat;
import java.util.List;

/**
 * AppCDS for the JVMs a mesh starts (decision 0014): the classes one kind of JVM loads (control
 * plane, proxy, Weather app) are archived once, during the first run, and mapped by every later JVM
 * of that kind, which then starts several times faster (control plane to ready: ~1 s instead of 3-6
 * s on a loaded 2-core machine).
 *
 * <p>The archive is named by the kind and a hash of what makes it valid (class path entries and the
 * jars of a {@code lib/} beside the first, with sizes and times; the JVM flags; the {@code java}
 * binary), so a rebuilt jar simply finds no archive and makes a new one; nothing stale is ever
 * mapped. Only one JVM creates it ({@code -XX:+RecordDynamicDumpInfo}): the one that wins an
 * exclusive lock file; the others of the first run start without. The creator writes it once the
 * mesh serves ({@link #dumpCreators}): a dump at exit would race the runner's stop grace period.
 * Archives live in {@code cds/} next to the jar they belong to.
 */
final class ClassDataSharing {
  /** A creator that died before writing gives up its lock after this long. */
  private static final Duration STALE_LOCK = Duration.ofMinutes(2);

  /** How a creating JVM's command line says where its archive goes. */
  static final String ARCHIVE_PROPERTY = "-Dbowline.cds.archive=";

  private ClassDataSharing() {}

  /**
   * Off unless {@code BOWLINE_CDS=on}: Temurin 25.0.3 crashed (SIGSEGV in {@code
   * LambdaProxyClassDictionary::find_lambda_proxy_class}) in a gateway mapping the proxies' dynamic
   * archive, 1 run in 4 of MeshedUpIT. Until that is understood, speed never costs a crash.
   */
  static boolean enabled() {
    return "on".equalsIgnoreCase(System.getenv("BOWLINE_CDS"));
  }

  /**
   * Asks every running creator among {@code children} to write its archive now ({@code jcmd PID
   * VM.cds dynamic_dump}, into a temporary file moved in place when complete), in the background:
   * the classes a serving JVM has loaded are the ones worth archiving.
   */
  static void dumpCreators(List<Supervisor.Child> children, String java) {
    Path jcmd = Path.of(java).resolveSibling("jcmd");
    if (!Files.isExecutable(jcmd)) {
      return;
    }
    for (Supervisor.Child c : children) {
      String archive = null;
      for (String arg : c.spec().argv()) {
        if (arg.startsWith(ARCHIVE_PROPERTY)) {
          archive = arg.substring(ARCHIVE_PROPERTY.length());
        }
      }
      if (archive == null || !c.alive()) {
        continue;
      }
      Path target = Path.of(archive);
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      long pid = c.pid();
      Thread.ofVirtual()
          .name("cds-dump-" + pid)
          .start(
              () -> {
                try {
                  Process p =
                      new ProcessBuilder(
                              jcmd.toString(),
                              Long.toString(pid),
                              "VM.cds",
                              "dynamic_dump",
                              tmp.toString())
                          .redirectErrorStream(true)
                          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                          .start();
                  if (p.waitFor() == 0 && Files.isRegularFile(tmp) && Files.size(tmp) > 0) {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                  }
                } catch (IOException e) {
                  // no archive this time; a later run asks again once the lock is stale
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
    }
  }

  /**
   * The JVM flags for a JVM of {@code kind} running {@code classPath} with {@code flags}: use the
   * archive if it exists, create it at exit if this JVM is the first to ask, else none.
   */
  static List<String> flags(String kind, String java, List<Path> classPath, List<String> flags) {
    if (!enabled() || classPath.isEmpty() || classPath.getFirst().getParent() == null) {
      return List.of();
    }
    Path dir = classPath.getFirst().getParent().resolve("cds");
    Path archive = dir.resolve(kind + "-" + key(java, classPath, flags) + ".jsa");
    if (Files.isRegularFile(archive)) {
      return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
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
      return List.of("-XX:+RecordDynamicDumpInfo", ARCHIVE_PROPERTY + archive, "-Xlog:cds=off");
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
