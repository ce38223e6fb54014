package dev.bowline.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bowline up} of {@code samples/weather/mesh-full.yaml} as the user runs it: the CLI jar in
 * its own JVM, which starts the control plane, the ingress gateway, six sidecars and six Weather
 * apps, each a process. Addresses are moved off the defaults (control plane and gateway on {@link
 * #GATEWAY_ADDRESS}, instances from the next address), into this run's {@link TestNet} block, so
 * that a developer's {@code bowline demo} and other test runs keep running beside the tests. {@code
 * bowline apply} runs as a process too.
 */
final class WeatherMesh implements AutoCloseable {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String GATEWAY_ADDRESS = TestNet.ip("127.0.0.180");
  static final String INGRESS = "http://" + GATEWAY_ADDRESS + ":8080";
  static final String CONTROL_PLANE = "http://" + GATEWAY_ADDRESS + ":15014";
  static final Path CONFIG = ROOT.resolve("samples/weather/config");
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final Path out;
  private final Process runner;
  private final long startedNanos;
  final HttpClient http =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  private WeatherMesh(Path dir, Process runner, long startedNanos) {
    this.dir = dir;
    this.out = dir.resolve("up.out");
    this.runner = runner;
    this.startedNanos = startedNanos;
  }

  static List<String> java() {
    return List.of(
        ProcessHandle.current().info().command().orElseThrow(),
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow");
  }

  /** Starts the mesh; returns once the runner has printed its summary. */
  static WeatherMesh start(Path dir) throws Exception {
    String mesh =
        Files.readString(ROOT.resolve("samples/weather/mesh-full.yaml"))
            .replace(
                "config: [config/base, config/local-mode]",
                "config: [" + CONFIG.resolve("base") + ", " + CONFIG.resolve("local-mode") + "]")
            .replace("address: 127.0.0.1", "address: " + GATEWAY_ADDRESS);
    Path file = dir.resolve("mesh.yaml");
    Files.writeString(file, mesh);
    List<String> argv = new ArrayList<>(java());
    argv.addAll(
        List.of(
            "-jar",
            ROOT.resolve("cli/target/bowline.jar").toString(),
            "up",
            "-f",
            file.toString(),
            "--first-address",
            TestNet.ip("127.0.0.181"),
            "--control-plane-address",
            GATEWAY_ADDRESS,
            "--run-dir",
            dir.resolve("run").toString(),
            "--ready-timeout-s",
            "90",
            "--grace-s",
            "3"));
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(argv)
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("up.out").toFile())
            .start();
    WeatherMesh m = new WeatherMesh(dir, p, t0);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (!m.output().contains("instances ready")) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        m.close();
        throw new AssertionError("bowline up did not come up:\n" + m.output());
      }
      Thread.sleep(200);
    }
    return m;
  }

  /** Seconds from starting {@code bowline up} to now. */
  double secondsSinceStart() {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  String output() throws IOException {
    return Files.exists(out) ? Files.readString(out) : "";
  }

  /** One dashboard through the ingress gateway; every failure (status, broken part) throws. */
  JsonNode dashboard(Map<String, String> headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(INGRESS + "/api/dashboard?city=beijing"))
            .timeout(Duration.ofSeconds(30));
    headers.forEach(b::header);
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError("HTTP " + r.statusCode() + ": " + r.body());
    }
    JsonNode d = JSON.readTree(r.body());
    if (!d.at("/forecast/ok").asBoolean() || !d.at("/advertisement/ok").asBoolean()) {
      throw new AssertionError("a part failed: " + r.body());
    }
    return d;
  }

  /** {@code bowline apply -f PATH...} as a process; its output. */
  String apply(Path... paths) throws Exception {
    return cli("apply", paths);
  }

  String cli(String verb, Path... paths) throws Exception {
    List<String> argv = new ArrayList<>(java());
    argv.addAll(List.of("-jar", ROOT.resolve("cli/target/bowline.jar").toString(), verb));
    for (Path p : paths) {
      argv.add("-f");
      argv.add(p.toString());
    }
    argv.add("--control-plane");
    argv.add(CONTROL_PLANE);
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(text).isZero();
    return text;
  }

  /** The runner's process and every process it started. */
  List<ProcessHandle> family() {
    List<ProcessHandle> all = new ArrayList<>(runner.descendants().toList());
    all.add(runner.toHandle());
    return all;
  }

  @Override
  public void close() throws Exception {
    List<ProcessHandle> family = family();
    runner.destroy();
    if (!runner.waitFor(30, TimeUnit.SECONDS)) {
      runner.destroyForcibly();
    }
    family.forEach(ProcessHandle::destroyForcibly);
  }
}
