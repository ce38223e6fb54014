package dev.bowline.cli;

import dev.bowline.cli.mesh.BowlineJvm;
import dev.bowline.cli.mesh.Capabilities;
import dev.bowline.cli.mesh.MeshFile;
import dev.bowline.cli.mesh.MeshRunner;
import dev.bowline.cli.mesh.MeshSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline up -f mesh.yaml}: runs the workloads of {@code mesh.yaml} on loopback addresses,
 * with the control plane and a sidecar each when those commands are built, until Ctrl-C/SIGTERM.
 */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = {
      "Mesh a set of local processes from mesh.yaml: one loopback address 127.0.0.N per instance,",
      "the control plane's registry file, one Envoy bootstrap per sidecar; then start and supervise",
      "control plane, sidecars and apps until Ctrl-C or SIGTERM, which stop everything."
    })
final class UpCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--file"},
      required = true,
      paramLabel = "MESH_YAML",
      description = "The workloads to run (see samples/weather/mesh.yaml).")
  Path file;

  @Option(
      names = "--config-dir",
      paramLabel = "DIR",
      description =
          "Istio config directory for the control plane; repeatable (default: mesh.yaml's config).")
  List<Path> configDirs = new ArrayList<>();

  @Option(
      names = "--first-address",
      defaultValue = "127.0.0.2",
      description =
          "Loopback address of the first instance; the others follow (default: ${DEFAULT-VALUE}).")
  String firstAddress = "127.0.0.2";

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      description =
          "Where the registry file, bootstraps and logs go (default: a new temporary folder).")
  @Nullable Path runDir;

  @Option(
      names = "--weather-jar",
      paramLabel = "JAR",
      description =
          "The Weather app jar for workloads with a role (default: samples/weather/target/bowline-weather-all.jar of this checkout).")
  @Nullable Path weatherJar;

  @Option(
      names = "--no-mesh",
      description = "Run the apps unmeshed even when the control plane and proxy are built.")
  boolean noMesh;

  @Option(
      names = "--ready-timeout-s",
      defaultValue = "30",
      description = "Seconds an instance may take to become ready (default: ${DEFAULT-VALUE}).")
  int readyTimeoutSeconds = 30;

  @Option(
      names = "--grace-s",
      defaultValue = "5",
      description =
          "Seconds between SIGTERM and SIGKILL when stopping (default: ${DEFAULT-VALUE}).")
  int graceSeconds = 5;

  @Option(
      names = "--control-plane-address",
      defaultValue = "127.0.0.1",
      description = "Where the control plane listens (default: ${DEFAULT-VALUE}).")
  String controlPlaneAddress = "127.0.0.1";

  @Option(
      names = "--xds-port",
      defaultValue = "15010",
      description = "The control plane's ADS port (default: ${DEFAULT-VALUE}).")
  int xdsPort = 15010;

  @Option(
      names = "--monitoring-port",
      defaultValue = "15014",
      description = "The control plane's debug/metrics port (default: ${DEFAULT-VALUE}).")
  int monitoringPort = 15014;

  @Override
  public Integer call() throws IOException, InterruptedException {
    return run(runner -> {});
  }

  /**
   * Runs the mesh until Ctrl-C/SIGTERM; {@code started} is told once it runs (for {@code bowline
   * demo}'s tour).
   */
  int run(java.util.function.Consumer<MeshRunner> started)
      throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    MeshSpec mesh;
    try {
      mesh = MeshFile.read(file);
    } catch (MeshFile.InvalidMeshException e) {
      e.errors().forEach(err::println);
      err.flush();
      return 1;
    } catch (IOException e) {
      err.println("bowline up: cannot read " + file + ": " + e.getMessage());
      return 1;
    }
    Path dir = runDir != null ? runDir : Files.createTempDirectory("bowline-up-");
    MeshRunner.Options options =
        new MeshRunner.Options(
            firstAddress,
            dir.toAbsolutePath(),
            weatherJar != null ? weatherJar : defaultWeatherJar(),
            configDirs.stream().map(p -> p.toAbsolutePath().normalize()).toList(),
            Duration.ofSeconds(readyTimeoutSeconds),
            Duration.ofSeconds(graceSeconds),
            controlPlaneAddress,
            xdsPort,
            monitoringPort);
    Capabilities caps = noMesh ? Capabilities.DISABLED : capabilities(Main.newCommandLine());
    MeshRunner runner;
    try {
      runner = new MeshRunner(mesh, options, caps, BowlineJvm.current(Main.class.getName()), out);
    } catch (IllegalArgumentException e) {
      err.println("bowline up: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // Installed before anything starts, so Ctrl-C during start-up cleans up too.
    Thread hook =
        new Thread(
            () -> {
              out.println("bowline up: stopping");
              out.flush();
              runner.close();
              out.println("bowline up: stopped");
              out.flush();
              stopped.countDown();
            },
            "bowline-up-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = runner.start();
    if (code != 0) {
      Runtime.getRuntime().removeShutdownHook(hook);
      runner.close();
      return code;
    }
    started.accept(runner);
    stopped.await();
    return 0;
  }

  /**
   * What this CLI can run, read from its own command tree: a subcommand still in {@code
   * PlannedCommands} is not built; a built {@code control-plane} may also declare {@code
   * --config-dir}.
   */
  static Capabilities capabilities(CommandLine cli) {
    CommandLine cp = cli.getSubcommands().get("control-plane");
    CommandLine proxy = cli.getSubcommands().get("proxy");
    boolean cpBuilt = built(cp);
    return new Capabilities(
        cpBuilt,
        cpBuilt && cp.getCommandSpec().findOption("--config-dir") != null,
        built(proxy),
        false);
  }

  private static boolean built(@Nullable CommandLine sub) {
    return sub != null && !(sub.getCommandSpec().userObject() instanceof PlannedCommands.Planned);
  }

  /**
   * {@code <checkout>/samples/weather/target/bowline-weather-all.jar}, next to this CLI's build.
   */
  static Path defaultWeatherJar() {
    Path home = Path.of(".").toAbsolutePath();
    try {
      // cli/target/bowline.jar or cli/target/classes -> the checkout
      Path self =
          Path.of(UpCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = self.getParent();
      if (target != null && target.getParent() != null && target.getParent().getParent() != null) {
        home = target.getParent().getParent();
      }
    } catch (java.net.URISyntaxException | RuntimeException e) {
      // keep the working directory
    }
    return home.resolve("samples/weather/target/bowline-weather-all.jar").normalize();
  }
}
