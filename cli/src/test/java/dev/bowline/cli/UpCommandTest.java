package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.cli.mesh.BowlineJvm;
import dev.bowline.cli.mesh.Capabilities;
import dev.bowline.cli.mesh.MeshFile;
import dev.bowline.cli.mesh.MeshPlan;
import dev.bowline.cli.mesh.MeshRunner;
import dev.bowline.cli.mesh.MeshSpec;
import dev.bowline.cli.mesh.RegistryYaml;
import dev.bowline.cli.mesh.SidecarBootstrap;
import dev.bowline.cli.mesh.Supervisor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class UpCommandTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Command(name = "bowline")
  static final class Root implements Runnable {
    @Override
    public void run() {}
  }

  @Command(name = "control-plane")
  static final class PlannedControlPlane extends PlannedCommands.Planned {
    @Override
    int issue() {
      return 5;
    }
  }

  @Command(name = "proxy")
  static final class PlannedProxy extends PlannedCommands.Planned {
    @Override
    int issue() {
      return 6;
    }
  }

  @Command(name = "control-plane")
  static final class BuiltControlPlane implements Callable<Integer> {
    @Option(names = "--registry")
    Path registry;

    @Option(names = "--config-dir")
    List<Path> configDirs;

    @Override
    public Integer call() {
      return 0;
    }
  }

  @Test
  void plannedCommandsAreNotBuilt() {
    CommandLine cli = new CommandLine(new Root());
    cli.addSubcommand(new PlannedControlPlane());
    cli.addSubcommand(new PlannedProxy());
    Capabilities caps = UpCommand.capabilities(cli);
    assertThat(caps).isEqualTo(Capabilities.NONE);
    assertThat(caps.missing())
        .isEqualTo(
            "bowline control-plane (issue #5) and bowline proxy (issue #6) are not built yet");
  }

  @Test
  void aBuiltControlPlaneSwitchesItsStepOnWithItsOptions() {
    CommandLine cli = new CommandLine(new Root());
    cli.addSubcommand(new BuiltControlPlane());
    cli.addSubcommand(new PlannedProxy());
    Capabilities caps = UpCommand.capabilities(cli);
    assertThat(caps).isEqualTo(new Capabilities(true, true, false, false));
    assertThat(caps.sidecars()).isFalse();
    assertThat(caps.missing()).isEqualTo("bowline proxy (issue #6) is not built yet");
  }

  @Test
  void theRealCliIsReadTheSameWay() {
    CommandLine cli = Main.newCommandLine();
    Capabilities caps = UpCommand.capabilities(cli);
    assertThat(caps.controlPlane())
        .isEqualTo(
            !(cli.getSubcommands().get("control-plane").getCommandSpec().userObject()
                instanceof PlannedCommands.Planned));
    assertThat(caps.proxy())
        .isEqualTo(
            !(cli.getSubcommands().get("proxy").getCommandSpec().userObject()
                instanceof PlannedCommands.Planned));
  }

  private static final Capabilities REAL = UpCommand.capabilities(Main.newCommandLine());

  private static MeshRunner runner(Path dir, Capabilities caps, StringWriter out) throws Exception {
    MeshSpec spec = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    MeshRunner.Options options =
        new MeshRunner.Options(
            "127.0.0.242",
            dir,
            ROOT.resolve("samples/weather/target/bowline-weather-all.jar"),
            List.of(),
            Duration.ofSeconds(60),
            Duration.ofSeconds(2),
            "127.0.0.241",
            15010,
            15014);
    return new MeshRunner(
        spec, options, caps, BowlineJvm.current(Main.class.getName()), new PrintWriter(out, true));
  }

  /**
   * Step 1 launched for real against this build's {@code bowline control-plane}, in its own JVM
   * with the agreed command line: not built, its exit 3 is reported as such; built, it gets ready.
   */
  @Test
  void controlPlaneStepRunsTheAgreedCommand(@TempDir Path dir) throws Exception {
    StringWriter out = new StringWriter();
    Path registry = dir.resolve("registry.yaml");
    try (MeshRunner runner = runner(dir, new Capabilities(true, false, false, false), out)) {
      assertThat(runner.controlPlaneArgsForTest(registry))
          .containsExactly(
              "control-plane",
              "--registry",
              registry.toString(),
              "--address",
              "127.0.0.241",
              "--xds-port",
              "15010",
              "--monitoring-port",
              "15014");
      Files.writeString(registry, RegistryYaml.of(runner.plan()));
      assertThat(runner.startControlPlaneForTest(registry)).isEqualTo(REAL.controlPlane());
    }
    assertThat(out.toString())
        .contains("control plane: takes no --config-dir yet; Istio config is not applied");
    if (REAL.controlPlane()) {
      assertThat(out.toString()).contains("control plane: ready in");
    } else {
      assertThat(out.toString())
          .contains(
              "bowline up: control plane failed: exited 3: not built yet (log: "
                  + dir.resolve("control-plane.log")
                  + ")");
      assertThat(Files.readString(dir.resolve("control-plane.log")))
          .contains("bowline control-plane: not built yet (tracked in issue #5)");
    }
  }

  /**
   * Step 2 launched for real against this build's {@code bowline proxy} with a generated bootstrap:
   * not built, exit 3; built, it runs and its admin listens on the instance's address.
   */
  @Test
  void sidecarStepRunsTheAgreedCommandWithTheGeneratedBootstrap(@TempDir Path dir)
      throws Exception {
    StringWriter out = new StringWriter();
    try (MeshRunner runner = runner(dir, new Capabilities(true, false, true, false), out)) {
      MeshPlan.Instance forecastV2 = runner.plan().instances().get(2);
      Path bootstrap = dir.resolve("forecast-v2-0.weather/bootstrap.yaml");
      Files.createDirectories(bootstrap.getParent());
      Files.writeString(
          bootstrap, SidecarBootstrap.of(runner.plan(), forecastV2, "127.0.0.241", 15010));
      Supervisor.Spec spec = runner.sidecarSpec(forecastV2);
      assertThat(spec.argv().subList(spec.argv().size() - 9, spec.argv().size()))
          .containsExactly(
              "proxy",
              "-c",
              bootstrap.toString(),
              "--concurrency",
              "1",
              "--merged-metrics",
              forecastV2.address() + ":15020",
              "--drain-time-s",
              "1");
      Supervisor.Child sidecar = runner.supervisor().start(spec);
      if (REAL.proxy()) {
        Supervisor.Spec admin =
            new Supervisor.Spec(
                "admin",
                List.of("sleep", "30"),
                java.util.Map.of(),
                dir,
                dir.resolve("admin.log"),
                new Supervisor.Probe.Tcp(forecastV2.address(), 15000));
        assertThat(
                runner
                    .supervisor()
                    .awaitReady(runner.supervisor().start(admin), Duration.ofSeconds(30)))
            .isInstanceOf(Supervisor.Readiness.Ready.class);
        assertThat(sidecar.alive()).isTrue();
      } else {
        assertThat(runner.supervisor().awaitReady(sidecar, Duration.ofSeconds(60)))
            .isEqualTo(new Supervisor.Readiness.Exited(3));
        assertThat(Files.readString(dir.resolve("forecast-v2-0.weather/sidecar.log")))
            .contains("bowline proxy: not built yet (tracked in issue #6)");
      }
    }
  }

  @Test
  void aBrokenMeshFileNamesLineAndFieldAndExitsOne(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mesh.yaml");
    Files.writeString(
        file,
        """
        workloads:
        - name: web
          labels: {app: web}
          ports: [{name: http, number: 0}]
          command: [sleep, "60"]
        """);
    StringWriter err = new StringWriter();
    CommandLine cli = Main.newCommandLine();
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("up", "-f", file.toString())).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo("mesh.yaml:4: workloads[0].ports[0].number: must be 1-65535\n");
  }
}
