package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bowline.cli.mesh.Capabilities;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bowline up} as a real process ({@code java -jar cli/target/bowline.jar up}, what {@code
 * ./bowline} runs) with the real Weather app processes: table, direct calls between instances, an
 * app killed and reported while the rest answer, SIGTERM leaving no process behind.
 */
class UpIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  /**
   * These tests run the apps unmeshed: today because the control plane and proxy are not built (and
   * the runner must say so), once they are, by {@code --no-mesh} (meshed runs get their own tests
   * with the control plane's sidecar listeners).
   */
  private static final Capabilities CAPS = UpCommand.capabilities(Main.newCommandLine());

  private static final List<String> UNMESHED = CAPS.sidecars() ? List.of("--no-mesh") : List.of();

  private static final String MESH_OFF =
      "mesh: off, "
          + (CAPS.sidecars() ? Capabilities.DISABLED : CAPS).missing()
          + "; the apps run unmeshed and call each other directly";

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private Process up(Path out, String... args) throws IOException {
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
    argv.addAll(UNMESHED);
    ProcessBuilder pb = new ProcessBuilder(argv).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private static String awaitLine(Path out, String needle, Duration timeout) throws IOException {
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> Files.readString(out).contains(needle));
    return Files.readString(out);
  }

  /** The table's rows by instance: column name to value. */
  private static Map<String, Map<String, String>> table(String output) {
    List<String> lines = output.lines().toList();
    int header = 0;
    while (!lines.get(header).startsWith("WORKLOAD ")) {
      header++;
    }
    String[] cols = lines.get(header).trim().split("\\s+");
    Map<String, Map<String, String>> rows = new LinkedHashMap<>();
    for (int i = header + 1; i < lines.size() && lines.get(i).startsWith("weather/"); i++) {
      String[] cells = lines.get(i).trim().split("\\s+", cols.length);
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < cols.length; c++) {
        row.put(cols[c], cells[c]);
      }
      rows.put(row.get("INSTANCE"), row);
    }
    return rows;
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void weatherMeshRunsSurvivesAKilledAppAndStopsCleanly() throws Exception {
    Path out = dir.resolve("up.out");
    Process runner =
        up(
            out,
            "-f",
            "samples/weather/mesh.yaml",
            "--first-address",
            TestNet.ip("127.0.0.190"),
            "--run-dir",
            dir.resolve("run").toString(),
            "--grace-s",
            "3");
    String output = awaitLine(out, "instances ready", Duration.ofSeconds(120));
    assertThat(output)
        .contains(MESH_OFF + " (Istio config in config/base, config/local-mode is not applied)")
        .contains(
            CAPS.equals(Capabilities.NONE)
                ? "mesh: off, bowline control-plane (issue #5) and bowline proxy (issue #6) are not"
                    + " built yet"
                : "mesh: off, --no-mesh was given")
        .contains("bowline up: 5 of 5 instances ready; Ctrl-C stops everything");
    Map<String, Map<String, String>> rows = table(output);
    assertThat(rows.keySet())
        .containsExactly(
            "frontend-v1-0",
            "forecast-v1-0",
            "forecast-v2-0",
            "advertisement-v1-0",
            "recommendation-v1-0");
    assertThat(rows.values()).extracting(r -> r.get("HEALTH")).allMatch(h -> h.startsWith("ready"));
    assertThat(rows.get("forecast-v2-0"))
        .containsEntry("ADDRESS", TestNet.ip("127.0.0.192"))
        .containsEntry("PORTS", "http-forecast:3002")
        .containsEntry("VERSION", "v2");
    String frontend = "http://" + rows.get("frontend-v1-0").get("ADDRESS") + ":3000";
    String forecastV2 = "http://" + rows.get("forecast-v2-0").get("ADDRESS") + ":3002";

    // Unmeshed, upstreams are direct URLs to the first instance of each service.
    HttpResponse<String> dash = get(frontend + "/api/dashboard?city=beijing");
    assertThat(dash.statusCode()).as(dash.body()).isEqualTo(200);
    JsonNode d = JSON.readTree(dash.body());
    assertThat(d.at("/forecast/ok").asBoolean()).as(dash.body()).isTrue();
    assertThat(d.at("/forecast/instance").asText()).isEqualTo("forecast-v1-0");
    assertThat(d.at("/advertisement/ok").asBoolean()).as(dash.body()).isTrue();
    assertThat(d.at("/advertisement/instance").asText()).isEqualTo("advertisement-v1-0");
    JsonNode v2 = JSON.readTree(get(forecastV2 + "/api/forecast?city=beijing").body());
    assertThat(v2.at("/recommendation/ok").asBoolean()).as(v2.toString()).isTrue();
    assertThat(v2.at("/recommendation/instance").asText()).isEqualTo("recommendation-v1-0");

    // Kill one app: reported in one line, the others keep answering.
    long victim = Long.parseLong(rows.get("forecast-v2-0").get("PID"));
    ProcessHandle.of(victim).orElseThrow().destroyForcibly();
    output =
        awaitLine(
            out,
            "bowline up: exited workload=weather/forecast-v2 instance=forecast-v2-0 pid="
                + victim
                + " code=137",
            Duration.ofSeconds(20));
    assertThat(runner.isAlive()).isTrue();
    // The registry the control plane reads drops the dead instance's endpoint, and only it.
    Path registry = dir.resolve("run/registry.yaml");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.readString(registry).contains("health: UNHEALTHY"));
    JsonNode reg =
        new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(registry.toFile());
    Map<String, String> health = new LinkedHashMap<>();
    reg.get("workloads")
        .forEach(w -> health.put(w.get("name").asText(), w.path("health").asText("HEALTHY")));
    assertThat(health)
        .containsExactly(
            Map.entry("frontend-v1-0", "HEALTHY"),
            Map.entry("forecast-v1-0", "HEALTHY"),
            Map.entry("forecast-v2-0", "UNHEALTHY"),
            Map.entry("advertisement-v1-0", "HEALTHY"),
            Map.entry("recommendation-v1-0", "HEALTHY"));
    for (Map<String, String> row : rows.values()) {
      if (!row.get("INSTANCE").equals("forecast-v2-0")) {
        String port = row.get("PORTS").split(",")[0].split(":")[1];
        assertThat(get("http://" + row.get("ADDRESS") + ":" + port + "/health").statusCode())
            .as(row.get("INSTANCE"))
            .isEqualTo(200);
      }
    }
    assertThat(get(frontend + "/api/dashboard?city=beijing").statusCode()).isEqualTo(200);

    // SIGTERM: every child and descendant gets stopped, none is left.
    List<ProcessHandle> family = runner.descendants().toList();
    assertThat(family).hasSizeGreaterThanOrEqualTo(4);
    runner.destroy();
    assertThat(runner.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(out)).contains("bowline up: stopping", "bowline up: stopped");
    assertThat(family).noneMatch(ProcessHandle::isAlive);
  }

  @Test
  void aWorkloadThatFailsToStartIsReportedAndTheRestKeepRunning() throws Exception {
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(
        mesh,
        """
        workloads:
        - name: advertisement-v1
          namespace: weather
          labels: {app: advertisement, version: v1}
          ports: [{name: http-advertisement, number: 3003}]
          role: advertisement
        - name: broken
          namespace: weather
          labels: {app: broken}
          ports: [{name: tcp, number: 9000}]
          command: [sh, -c, "echo boom on ${BOWLINE_ADDRESS}; exit 2"]
        """);
    Path out = dir.resolve("up.out");
    Process runner =
        up(
            out,
            "-f",
            mesh.toString(),
            "--first-address",
            TestNet.ip("127.0.0.196"),
            "--run-dir",
            dir.resolve("run").toString());
    String output = awaitLine(out, "instances ready", Duration.ofSeconds(60));
    Path log = dir.resolve("run/broken-0.weather/app.log");
    assertThat(output)
        .contains(
            "bowline up: workload=weather/broken instance=broken-0 failed to start: exited 2 (log: "
                + log
                + ")")
        .contains("bowline up: 1 of 2 instances ready; Ctrl-C stops everything");
    assertThat(Files.readString(log)).isEqualTo("boom on " + TestNet.ip("127.0.0.197") + "\n");
    assertThat(Files.readString(dir.resolve("run/registry.yaml")))
        .containsOnlyOnce("health: UNHEALTHY")
        .containsPattern("name: broken-0\\n(  .*\\n)*  health: UNHEALTHY");
    assertThat(table(output).get("broken-0").get("HEALTH"))
        .isEqualTo("exited 2 (log: " + log + ")");
    assertThat(get("http://" + TestNet.ip("127.0.0.196") + ":3003/health").statusCode())
        .isEqualTo(200);
    assertThat(runner.isAlive()).isTrue();
    runner.destroy();
    assertThat(runner.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * Ctrl-C in a terminal sends SIGINT to the whole foreground process group. The runner runs here
   * as a group of its own (setsid, like a shell's job) and the group gets SIGINT: the apps must not
   * die of it on their own (no "exited" report) but be stopped by the runner, leaving nothing.
   */
  @Test
  void ctrlCToTheProcessGroupStopsEverythingThroughTheRunner() throws Exception {
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(
        mesh,
        """
        workloads:
        - name: advertisement-v1
          namespace: weather
          labels: {app: advertisement, version: v1}
          ports: [{name: http-advertisement, number: 3003}]
          replicas: 2
          role: advertisement
        """);
    Path out = dir.resolve("up.out");
    List<String> argv =
        new ArrayList<>(
            List.of(
                "setsid",
                ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED",
                "-jar",
                ROOT.resolve("cli/target/bowline.jar").toString(),
                "up",
                "-f",
                mesh.toString(),
                "--first-address",
                TestNet.ip("127.0.0.201")));
    argv.addAll(UNMESHED);
    Process runner =
        new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    started.add(runner);
    awaitLine(out, "bowline up: 2 of 2 instances ready", Duration.ofSeconds(60));
    List<ProcessHandle> family = runner.descendants().toList();
    assertThat(family).hasSizeGreaterThanOrEqualTo(2);

    Process kill = new ProcessBuilder("kill", "-INT", "--", "-" + runner.pid()).start();
    assertThat(kill.waitFor()).isZero();

    assertThat(runner.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS)).isTrue();
    // Both apps ended by the runner's SIGTERM (143), not by the group's SIGINT (130).
    assertThat(Files.readString(out))
        .contains("bowline up: stopping", "bowline up: stopped")
        .doesNotContain("exited")
        .containsPattern(
            "bowline up: stopped workload=weather/advertisement-v1 instance=advertisement-v1-0"
                + " pid=\\d+ code=143")
        .containsPattern(
            "bowline up: stopped workload=weather/advertisement-v1 instance=advertisement-v1-1"
                + " pid=\\d+ code=143");
    assertThat(family).noneMatch(ProcessHandle::isAlive);
  }

  @Test
  void aPortInUseNamesTheWorkloadAndPortAndStartsNothing() throws Exception {
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(
        mesh,
        """
        workloads:
        - name: web
          namespace: shop
          labels: {app: web}
          ports: [{name: http-web, number: 8080}]
          command: [sleep, "60"]
        """);
    Path out = dir.resolve("up.out");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.ofLiteral(TestNet.ip("127.0.0.199")), 8080));
      Process runner = up(out, "-f", mesh.toString(), "--first-address", TestNet.ip("127.0.0.199"));
      assertThat(runner.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(runner.exitValue()).isEqualTo(1);
    }
    assertThat(Files.readString(out))
        .isEqualTo(
            "bowline up: workload shop/web (instance web-0): port http-web "
                + TestNet.ip("127.0.0.199")
                + ":8080 is"
                + " already in use\n");
  }
}
