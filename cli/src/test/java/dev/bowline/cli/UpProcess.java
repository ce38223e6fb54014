package dev.bowline.cli;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bowline up} as the user runs it, for the meshed ITs: the built {@code
 * cli/target/bowline.jar} in its own JVM, started from the repository root with the given
 * arguments, its run directory {@code dir/run}, a 3 s grace period and its output in {@code
 * dir/up.out}. The caller stops {@link #process} (and what it started).
 */
final class UpProcess {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /**
   * How long a test gives {@code bowline up} to stop: its worst case is the grace period (5 s by
   * default), 5 s more for what SIGKILL leaves, and up to 15 s for the start-up archives a first
   * run writes (a fresh checkout, or jars rebuilt), then its own JVM's exit, all on a loaded
   * machine: the 30 s it had left a few seconds (decision 0044, session 15 addendum).
   */
  static final int STOP_SECONDS = 90;

  final Process process;
  final Path out;

  private UpProcess(Process process, Path out) {
    this.process = process;
    this.out = out;
  }

  /** Starts {@code bowline up ARGS... --run-dir DIR/run --grace-s 3}. */
  static UpProcess start(Path dir, String... args) throws IOException {
    List<String> argv =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-jar",
                ROOT.resolve("cli/target/bowline.jar").toString(),
                "up"));
    argv.addAll(List.of(args));
    argv.addAll(List.of("--run-dir", dir.resolve("run").toString(), "--grace-s", "3"));
    Path out = dir.resolve("up.out");
    Process p =
        new ProcessBuilder(argv)
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    return new UpProcess(p, out);
  }

  /**
   * Waits until the runner printed its summary ({@code N of M instances ready}) or exited, at most
   * {@code timeout}; its output then.
   */
  String awaitSummary(Duration timeout) throws IOException {
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> output().contains("instances ready") || !process.isAlive());
    return output();
  }

  /** What the runner printed so far. */
  String output() throws IOException {
    return Files.readString(out);
  }
}
