package dev.bowline.cli.mesh;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How to start another {@code bowline} subcommand or a Java app in its own JVM: the runner's own
 * {@code java} and class path.
 *
 * @param java the {@code java} executable
 * @param classPath the class path of the {@code bowline} CLI, absolute entries
 * @param mainClass the CLI's main class
 */
public record BowlineJvm(String java, String classPath, String mainClass) {
  /** Flags every Bowline JVM gets (as {@code ./bowline} passes them). */
  static final List<String> BOWLINE_FLAGS =
      List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");

  /**
   * The JVM options of every proxy process (sidecars, gateways, {@code bowline proxy} run by {@code
   * ./bowline}, the proxy benchmark): the resource {@code proxy.jvm-options} beside this class, a
   * {@code java} argument file that {@code ./bowline} and {@code bench/proxy/run.sh} pass as it is,
   * so the three can never differ (decision 0030).
   */
  public static final List<String> PROXY_FLAGS = options("proxy.jvm-options");

  /**
   * The options of {@code java} argument file resource {@code name}: one per line, blank lines and
   * lines starting with {@code #} skipped.
   */
  static List<String> options(String name) {
    try (var in = BowlineJvm.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("reading resource " + name, e);
    }
  }

  /** Small-footprint flags for one app per JVM (measured in decision 0006: ~90 MB RSS). */
  static final List<String> SMALL_APP_FLAGS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "-Xss256k");

  /** The JVM this process runs in, with its class path made absolute. */
  public static BowlineJvm current(String mainClass) {
    String javaCmd =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String cp =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(s -> !s.isEmpty())
            .map(s -> Path.of(s).toAbsolutePath().toString())
            .collect(Collectors.joining(File.pathSeparator));
    return new BowlineJvm(javaCmd, cp, mainClass);
  }

  /**
   * {@code java <flags> -cp <cli> Main <args>}: a {@code bowline} subcommand in its own JVM, with
   * the AppCDS archive of its kind (the subcommand) when it has one ({@link ClassDataSharing}).
   */
  public List<String> bowline(List<String> jvmFlags, List<String> args) {
    return bowline(args.isEmpty() ? "" : args.getFirst(), jvmFlags, args);
  }

  /**
   * {@code java <flags> -cp <cli> Main <args>} with the AppCDS archive of {@code kind} (e.g. {@code
   * sidecar}, {@code gateway}: one archive per role, never shared between roles).
   */
  public List<String> bowline(String kind, List<String> jvmFlags, List<String> args) {
    return command(kind, jvmFlags, classPath, mainClass, args);
  }

  /** The main class of every proxy process (decision 0038). */
  static final String PROXY_MAIN = "dev.bowline.proxycli.ProxyMain";

  /** The launcher jar of proxy processes, beside {@code bowline.jar} (decision 0038). */
  static final String PROXY_JAR = "bowline-proxy.jar";

  /**
   * {@code java <flags> -cp <proxy class path> ProxyMain proxy <args>}: a proxy process (sidecar,
   * gateway) with the AppCDS archive of {@code kind}. Its class path is {@link #proxyClassPath}.
   */
  public List<String> proxy(String kind, List<String> jvmFlags, List<String> args) {
    List<String> all = new ArrayList<>();
    all.add("proxy");
    all.addAll(args);
    return command(kind, jvmFlags, proxyClassPath(), PROXY_MAIN, all);
  }

  /**
   * The class path of a proxy process: {@code bowline-proxy.jar} when this JVM runs from {@code
   * bowline.jar} and that launcher lies beside it ({@code ./bowline}, {@code java -jar
   * cli/target/bowline.jar up}): the proxy's own runtime jars, without the control plane's, the
   * CLI's and their libraries (decision 0038). Otherwise (tests on Maven's class path) this JVM's
   * class path, which holds {@link #PROXY_MAIN} too.
   */
  String proxyClassPath() {
    if (!classPath.contains(File.pathSeparator)) {
      Path jar = Path.of(classPath);
      Path launcher = jar.resolveSibling(PROXY_JAR);
      if (jar.getFileName() != null
          && jar.getFileName().toString().equals("bowline.jar")
          && Files.isRegularFile(launcher)) {
        return launcher.toString();
      }
    }
    return classPath;
  }

  private List<String> command(
      String kind, List<String> jvmFlags, String cp, String main, List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add(java);
    argv.addAll(BOWLINE_FLAGS);
    argv.addAll(jvmFlags);
    if (!kind.isEmpty()) {
      argv.addAll(
          ClassDataSharing.flags(
              kind,
              java,
              Arrays.stream(cp.split(File.pathSeparator)).map(Path::of).toList(),
              jvmFlags));
    }
    argv.add("-cp");
    argv.add(cp);
    argv.add(main);
    argv.addAll(args);
    return argv;
  }

  /** {@code java <small flags> -jar <jar>}: a Java app in its own small JVM. */
  public List<String> jar(Path jar) {
    List<String> argv = new ArrayList<>();
    argv.add(java);
    argv.addAll(SMALL_APP_FLAGS);
    argv.addAll(
        ClassDataSharing.flags("app", java, List.of(jar.toAbsolutePath()), SMALL_APP_FLAGS));
    argv.add("-jar");
    argv.add(jar.toAbsolutePath().toString());
    return argv;
  }
}
