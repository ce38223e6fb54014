package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./bowline control-plane} as a user runs it, in its own process. */
class ControlPlaneIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final String REGISTRY =
      """
      services:
      - namespace: weather
        name: forecast
        ports: [{name: grpc, port: 8080}]
      workloads:
      - namespace: weather
        name: forecast-v1
        labels: {app: forecast}
        address: 127.0.0.11
      """;

  private static ProcessBuilder bowline(String... args) {
    java.util.List<String> cmd = new java.util.ArrayList<>();
    cmd.add(ROOT.resolve("bowline").toString());
    cmd.addAll(java.util.List.of(args));
    return new ProcessBuilder(cmd).directory(ROOT.toFile());
  }

  @Test
  void servesTheRegistryAndStopsOnSigterm(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("registry.yaml");
    Files.writeString(file, REGISTRY);
    Path config = Files.createDirectory(dir.resolve("config"));
    Files.writeString(
        config.resolve("dr.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: forecast, namespace: weather}
        spec:
          host: forecast
          subsets: [{name: v1, labels: {version: v1}}]
        """);
    Process p =
        bowline(
                "control-plane",
                "--registry",
                file.toString(),
                "--config-dir",
                config.toString(),
                "--xds-port",
                "0",
                "--monitoring-port",
                "0")
            .redirectError(dir.resolve("err.txt").toFile())
            .start();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String xds = out.readLine();
      String monitoring = out.readLine();
      String registry = out.readLine();
      String configLine = out.readLine();
      String dashboardLine = out.readLine();
      assertThat(xds)
          .as(Files.readString(dir.resolve("err.txt")))
          .matches("xds: 127\\.0\\.0\\.1:\\d+");
      assertThat(registry).isEqualTo("registry: 1 services from " + file);
      assertThat(configLine).startsWith("config: 1 resources, 0 refused, from [" + config + "]");
      String base = monitoring.replace("monitoring: ", "").replace("/debug/syncz", "");
      HttpClient http = HttpClient.newHttpClient();
      assertThat(get(http, base + "/ready")).isEqualTo("ready\n");
      assertThat(get(http, base + "/debug/registryz"))
          .contains(
              "\"hostname\" : \"forecast.weather.svc.cluster.local\"",
              "\"address\" : \"127.0.0.11\"");
      assertThat(get(http, base + "/debug/configz"))
          .contains("\"kind\" : \"DestinationRule\"", "\"name\" : \"forecast\"");
      assertThat(get(http, base + "/metrics")).contains("pilot_xds_pushes{type=\"cds\"}");
      // The dashboard on the same port, and bowline dashboard finding it.
      assertThat(dashboardLine).isEqualTo("dashboard: " + base + "/dashboard/");
      assertThat(get(http, base + "/dashboard/")).contains("<title>Bowline mesh dashboard</title>");
      assertThat(get(http, base + "/api/graph"))
          .contains("\"id\":\"weather/forecast/latest\"", "\"edges\":[]");
      java.io.StringWriter cliOut = new java.io.StringWriter();
      picocli.CommandLine cli = Main.newCommandLine();
      cli.setOut(new java.io.PrintWriter(cliOut, true));
      assertThat(cli.execute("dashboard", "--no-browser", "--control-plane", base)).isZero();
      assertThat(cliOut.toString()).isEqualTo("dashboard: " + base + "/dashboard/\n");
    } finally {
      p.destroy();
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
    }
  }

  @Test
  void anInvalidRegistryIsRefusedWithEveryError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("registry.yaml");
    Files.writeString(file, "workloads:\n- namespace: weather\n  address: 1.2.3\n");
    Process p = bowline("control-plane", "--registry", file.toString()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(err)
        .contains("bowline control-plane: invalid registry file:")
        .contains("  workloads[0].name: is required")
        .contains("  workloads[0].address: '1.2.3' is not an IP address");
  }

  private static String get(HttpClient http, String url) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
