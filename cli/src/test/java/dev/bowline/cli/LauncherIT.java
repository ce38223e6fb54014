package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the real {@code ./bowline} launcher script as a user would, in its own process. */
class LauncherIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  record Result(int exit, String out, String err) {}

  private static Result run(Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(
            java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(ROOT.resolve("bowline").toString()),
                    java.util.Arrays.stream(args))
                .toList());
    pb.directory(ROOT.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile("bowline-out", ".txt");
    Path err = Files.createTempFile("bowline-err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bowline finished").isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void helpAndVersionRunOnJava25() throws Exception {
    Result help = run(Map.of(), "--help");
    assertThat(help.exit()).as(help.err()).isZero();
    assertThat(help.out()).startsWith("Usage: bowline").contains("control-plane", "version");

    Result version = run(Map.of(), "version");
    assertThat(version.exit()).as(version.err()).isZero();
    List<String> lines = version.out().lines().toList();
    assertThat(lines.get(0)).startsWith("bowline ");
    assertThat(lines.get(2)).matches("java: +(2[5-9]|[3-9]\\d).*");
    assertThat(lines.get(3)).isIn("transport: epoll", "transport: nio");
  }

  @Test
  void unknownSubcommandExitsTwo() throws Exception {
    Result r = run(Map.of(), "no-such-command");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("Unmatched argument at index 0: 'no-such-command'");
  }

  @Test
  void withoutJava25ItSaysSoInOneLine() throws Exception {
    Path java17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
    Path empty = Files.createTempDirectory("no-jdks");
    Map<String, String> env =
        Files.isDirectory(java17)
            ? Map.of("JAVA_HOME", java17.toString(), "BOWLINE_JDK_SEARCH_PATH", empty.toString())
            : Map.of("JAVA_HOME", "", "BOWLINE_JDK_SEARCH_PATH", empty.toString());
    Result r = run(env, "version");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines().toList())
        .singleElement()
        .asString()
        .startsWith("bowline: needs a JDK 25 or newer, found none");
  }
}
