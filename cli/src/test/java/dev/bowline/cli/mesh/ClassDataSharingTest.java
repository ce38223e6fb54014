package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassDataSharingTest {
  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();

  /** A tiny program for real JVMs to run: loads a few classes, lambdas included. */
  public static final class Hello {
    public static void main(String[] args) {
      Runnable r = () -> System.out.println(String.join(",", List.of("hello", "cds")));
      r.run();
    }
  }

  @Test
  void theDumpedListLeavesOutPicoclisConstantPoolResolutionsOnly() {
    String list =
        String.join(
            "\n",
            "picocli/CommandLine id: 10",
            "@cp picocli/CommandLine 4 7 12",
            "dev/bowline/cli/Main id: 11",
            "@cp dev/bowline/cli/Main 2 5",
            "@lambda-proxy dev/bowline/cli/Main run ()V",
            "@cp picocli/CommandLine$Help 3",
            "");
    assertThat(ClassDataSharing.withoutOldClassResolution(list))
        .isEqualTo(
            String.join(
                "\n",
                "picocli/CommandLine id: 10",
                "dev/bowline/cli/Main id: 11",
                "@cp dev/bowline/cli/Main 2 5",
                "@lambda-proxy dev/bowline/cli/Main run ()V",
                ""));
  }

  @Test
  void aCreatorRecordsItsClassListAndTheNextJvmOfItsKindMapsTheArchive(@TempDir Path dir)
      throws Exception {
    // The class path's first entry decides where archives go: <its parent>/cds. CDS archives
    // classes from jars only, as the mesh's are.
    Path jarDir = Files.createDirectories(dir.resolve("app"));
    Path copy = jarDir.resolve("hello.jar");
    jar(copy, Hello.class);
    List<Path> cp = List.of(copy);
    List<String> flags = List.of("-XX:+UseSerialGC", "-Xmx64m");

    List<String> first = ClassDataSharing.flags("hello", JAVA, cp, flags);
    assertThat(first)
        .anyMatch(f -> f.startsWith("-XX:DumpLoadedClassList="))
        .anyMatch(f -> f.startsWith(ClassDataSharing.ARCHIVE_PROPERTY));
    // While the first is creating, another JVM of the kind runs without.
    assertThat(ClassDataSharing.flags("hello", JAVA, cp, flags)).isEmpty();

    List<String> creator = argv(flags, first, copy);
    assertThat(run(creator)).contains("hello,cds");

    List<String> dump = ClassDataSharing.dumpCommand(creator);
    assertThat(dump)
        .contains("-Xshare:dump", "-XX:+UseSerialGC", "-Xmx64m", "-cp", copy.toString())
        .noneMatch(f -> f.startsWith("-XX:DumpLoadedClassList="))
        .noneMatch(f -> f.startsWith(ClassDataSharing.ARCHIVE_PROPERTY));

    // The runner dumps in the background; this test waits for it.
    ClassDataSharing.Dumps dumps = ClassDataSharing.dumpCreatorsOf(List.of(creator));
    dumps.finish(java.time.Duration.ofSeconds(60));

    List<String> next = ClassDataSharing.flags("hello", JAVA, cp, flags);
    assertThat(next).anyMatch(f -> f.startsWith("-XX:SharedArchiveFile="));
    // -Xshare:on fails the JVM when the archive cannot be mapped: proof that it is used.
    List<String> strict = new ArrayList<>(argv(flags, next, copy));
    strict.replaceAll(f -> f.equals("-Xshare:auto") ? "-Xshare:on" : f);
    assertThat(run(strict)).contains("hello,cds");
    // A different kind never maps this one's archive.
    assertThat(ClassDataSharing.flags("other", JAVA, cp, flags))
        .noneMatch(f -> f.startsWith("-XX:SharedArchiveFile="));
  }

  @Test
  void aJvmThatIsNotACreatorHasNoDumpCommand() {
    assertThat(ClassDataSharing.dumpCommand(List.of(JAVA, "-Xmx64m", "-cp", "x.jar", "Main")))
        .isEmpty();
  }

  private static List<String> argv(List<String> flags, List<String> cds, Path cp) {
    List<String> argv = new ArrayList<>();
    argv.add(JAVA);
    argv.addAll(flags);
    argv.addAll(cds);
    argv.add("-cp");
    argv.add(cp.toString());
    argv.add(Hello.class.getName());
    return argv;
  }

  private static String run(List<String> argv) throws Exception {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static void jar(Path jar, Class<?> c) throws Exception {
    String name = c.getName().replace('.', '/') + ".class";
    try (var in = c.getClassLoader().getResourceAsStream(name);
        var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new java.util.jar.JarEntry(name));
      in.transferTo(out);
      out.closeEntry();
    }
  }
}
