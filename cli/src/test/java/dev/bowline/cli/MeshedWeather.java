package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The meshed Weather app for an IT: {@code bowline up} (the built {@code cli/target/bowline.jar})
 * of {@code samples/weather/mesh.yaml} with its config directories plus {@code extraConfig}, the
 * first instance at {@code firstAddress}, the control plane and the ingress gateway at {@link
 * #CONTROL_PLANE} (this run's {@link TestNet} block, not the defaults' 127.0.0.1), run from {@code
 * dir}; returns once all five instances are ready. {@link #close()} stops it and waits for it.
 */
final class MeshedWeather implements AutoCloseable {
  static final Path ROOT = UpProcess.ROOT;

  /** The control plane's and the ingress gateway's address (mesh.yaml's 127.0.0.1, moved). */
  static final String CONTROL_PLANE = TestNet.ip("127.0.0.1");

  final Process runner;
  final Path out;
  final Path dir;

  private MeshedWeather(Process runner, Path out, Path dir) {
    this.runner = runner;
    this.out = out;
    this.dir = dir;
  }

  static MeshedWeather up(Path dir, String firstAddress, List<Path> extraConfig) throws Exception {
    String meshYaml = Files.readString(ROOT.resolve("samples/weather/mesh.yaml"));
    assertThat(meshYaml).contains("config: [config/base, config/local-mode]");
    List<String> dirs = new ArrayList<>();
    dirs.add(ROOT.resolve("samples/weather/config/base").toString());
    dirs.add(ROOT.resolve("samples/weather/config/local-mode").toString());
    extraConfig.forEach(p -> dirs.add(p.toString()));
    Path meshFile = dir.resolve("mesh.yaml");
    Files.writeString(
        meshFile,
        meshYaml
            .replace(
                "config: [config/base, config/local-mode]",
                "config: [" + String.join(", ", dirs) + "]")
            .replace("address: 127.0.0.1", "address: " + CONTROL_PLANE));
    UpProcess up =
        UpProcess.start(
            dir,
            "-f",
            meshFile.toString(),
            "--first-address",
            firstAddress,
            "--control-plane-address",
            CONTROL_PLANE,
            // the runner's default 30 s per instance is a user's bound; a CI machine at load 19
            // took 21 s for the control plane alone (decision 0044)
            "--ready-timeout-s",
            "120");
    MeshedWeather m = new MeshedWeather(up.process, up.out, dir);
    try {
      assertThat(up.awaitSummary(Duration.ofSeconds(240))).contains("5 of 5 instances ready");
    } catch (RuntimeException | AssertionError e) {
      m.kill();
      throw e;
    }
    return m;
  }

  /** What {@code bowline up} printed so far. */
  String output() throws java.io.IOException {
    return Files.readString(out);
  }

  /** Stops at once, the whole process tree (a failed test's leftovers). */
  void kill() {
    runner.descendants().forEach(ProcessHandle::destroyForcibly);
    runner.destroyForcibly();
  }

  /** Stops gracefully (SIGTERM to the runner) and checks it ended. */
  @Override
  public void close() throws InterruptedException {
    runner.destroy();
    boolean ended = runner.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS);
    if (!ended) {
      kill();
    }
    assertThat(ended).as("bowline up stopped within %d s", UpProcess.STOP_SECONDS).isTrue();
  }
}
