package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./bowline validate} and {@code ./bowline analyze} as a user runs them: a real process. */
class ValidateIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  record Result(int exit, String out, String err) {}

  private static Result bowline(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bowline").toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("bowline-out", ".txt");
    Path err = Files.createTempFile("bowline-err", ".txt");
    Process p =
        new ProcessBuilder(command)
            .directory(ROOT.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bowline finished").isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void validFolderPassesAndBrokenCopyFailsWithFieldPaths(@TempDir Path dir) throws Exception {
    Result ok = bowline("validate", "-f", WeatherConfig.VALID.toString());
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("routing.yaml\" is valid", "mesh.yaml\" is valid");

    Result broken = bowline("validate", "-f", WeatherConfig.broken(dir).toString());
    assertThat(broken.exit()).isEqualTo(1);
    assertThat(broken.err().lines())
        .containsExactly(
            "Gateway weather/frontend-gateway: spec.servers[0].port.protocol: unrecognized protocol \"HTTPX\"",
            "VirtualService weather/forecast: spec.http[1].retries.perTryTimeout: invalid duration \"1 second\"; write a number with a unit, e.g. 10s, 1.5s, 100ms");
  }

  @Test
  void analyzeRunsOnTheWeatherFolder() throws Exception {
    Result r = bowline("analyze", "-f", WeatherConfig.VALID.toString(), "-o", "text");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("\u2714 No validation issues found");
  }

  @Test
  void analyzeWithTheLocalMeshFindsTheServicesAndReportsTheMissingIngressGateway()
      throws Exception {
    Result r =
        bowline(
            "analyze", "-f", "samples/weather/config/base", "--mesh", "samples/weather/mesh.yaml");
    // mesh.yaml has no ingress gateway workload: only the Gateway's selector is not found.
    assertThat(r.exit()).as(r.err()).isEqualTo(79);
    assertThat(r.out().lines())
        .containsExactly(
            "Error [IST0101] (Gateway weather/weather-gateway) Referenced selector not found: \"istio=ingressgateway\"");
  }
}
