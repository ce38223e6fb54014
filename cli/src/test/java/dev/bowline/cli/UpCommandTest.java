package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.cli.mesh.BowlineJvm;
import dev.bowline.cli.mesh.Capabilities;
import dev.bowline.cli.mesh.MeshFile;
import dev.bowline.cli.mesh.MeshRunner;
import dev.bowline.cli.mesh.MeshSpec;
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

  @Test
  void onThisBuildNeitherControlPlaneNorProxyIsBuilt() {
    Capabilities caps = UpCommand.capabilities(Main.newCommandLine());
    assertThat(caps).isEqualTo(Capabilities.NONE);
    assertThat(caps.missing())
        .isEqualTo(
            "bowline control-plane (issue #5) and bowline proxy (issue #6) are not built yet");
  }

  @Command(name = "bowline")
  static final class Root implements Runnable {
    @Override
    public void run() {}
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
  void aBuiltControlPlaneSwitchesItsStepOnWithItsOptions() {
    CommandLine cli = Main.newCommandLine();
    CommandLine replaced = new CommandLine(new Root());
    cli.getSubcommands()
        .forEach(
            (name, sub) -> {
              if (!name.equals("control-plane")) {
                replaced.addSubcommand(name, sub);
              }
            });
    replaced.addSubcommand("control-plane", new BuiltControlPlane());
    Capabilities caps = UpCommand.capabilities(replaced);
    assertThat(caps).isEqualTo(new Capabilities(true, true, false, false));
    assertThat(caps.sidecars()).isFalse();
    assertThat(caps.missing()).isEqualTo("bowline proxy (issue #6) is not built yet");
  }

  /**
   * Step 1 launched for real against today's {@code bowline control-plane}: the agreed command line
   * runs in its own JVM, and its "not built yet" exit is reported as such.
   */
  @Test
  void controlPlaneStepRunsTheAgreedCommandAndReportsItNotBuilt(@TempDir Path dir)
      throws Exception {
    MeshSpec spec = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    StringWriter out = new StringWriter();
    MeshRunner.Options options =
        new MeshRunner.Options(
            "127.0.0.2",
            dir,
            ROOT.resolve("samples/weather/target/bowline-weather-all.jar"),
            List.of(),
            Duration.ofSeconds(60),
            Duration.ofSeconds(2),
            "127.0.0.1",
            15010,
            15014);
    try (MeshRunner runner =
        new MeshRunner(
            spec,
            options,
            new Capabilities(true, false, false, false),
            BowlineJvm.current(Main.class.getName()),
            new PrintWriter(out, true))) {
      Path registry = dir.resolve("registry.yaml");
      assertThat(runner.controlPlaneArgsForTest(registry))
          .containsExactly(
              "control-plane",
              "--registry",
              registry.toString(),
              "--address",
              "127.0.0.1",
              "--xds-port",
              "15010",
              "--monitoring-port",
              "15014");
      Files.writeString(registry, "services: []\n");
      assertThat(runner.startControlPlaneForTest(registry)).isFalse();
    }
    assertThat(out.toString())
        .contains("control plane: takes no --config-dir yet; Istio config is not applied")
        .contains(
            "bowline up: control plane failed: exited 3: not built yet (log: "
                + dir.resolve("control-plane.log")
                + ")");
    assertThat(Files.readString(dir.resolve("control-plane.log")))
        .contains("bowline control-plane: not built yet (tracked in issue #5)");
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
