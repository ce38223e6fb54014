package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The one jar as real processes: flags and environment, a chain of roles, exits and errors. */
class WeatherMainIT {

  private static final Path JAR = Path.of("target", "bowline-weather-all.jar");
  private static final Pattern SERVING = Pattern.compile("weather (\\S+) serving on (http://\\S+)");

  private final List<Process> processes = new ArrayList<>();

  @BeforeAll
  static void jarIsBuilt() {
    assertThat(JAR).as("the shaded jar, built at package").exists();
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void rolesRunAsProcessesConfiguredByFlagsOrEnvironment() throws Exception {
    URI forecast =
        serving(start(Map.of(), "--role", "forecast", "--bind", "127.0.76.2", "--port", "0"));
    URI ad =
        serving(
            start(
                Map.of(
                    "WEATHER_ROLE",
                    "advertisement",
                    "WEATHER_VERSION",
                    "v2",
                    "WEATHER_BIND",
                    "127.0.76.4",
                    "WEATHER_PORT",
                    "0")));
    URI frontend =
        serving(
            start(
                Map.of("FORECAST_URL", forecast.toString(), "ADVERTISEMENT_URL", ad.toString()),
                "--role",
                "frontend",
                "--bind",
                "127.0.76.1",
                "--port",
                "0"));

    try (Http http = new Http()) {
      JsonNode d = http.json(http.get(frontend.resolve("/api/dashboard?city=guangzhou")));
      assertThat(d.at("/forecast/version").asText()).isEqualTo("v1");
      assertThat(d.at("/forecast/ok").asBoolean()).isTrue();
      assertThat(d.at("/advertisement/version").asText()).isEqualTo("v2");
      assertThat(d.at("/frontend/instance").asText())
          .isEqualTo("frontend-v1@" + frontend.getAuthority());
    }
  }

  @Test
  void sigtermStopsTheProcess() throws Exception {
    Process p =
        start(
            Map.of(),
            "--role",
            "recommendation",
            "--bind",
            "127.0.76.5",
            "--port",
            "0",
            "--grpc-port",
            "0");
    serving(p);

    p.destroy();

    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(143);
  }

  @Test
  void badOptionsExit2AndBusyPortsExit1NamingTheProblem() throws Exception {
    Process bad = start(Map.of(), "--role", "forecast", "--version", "v9");
    assertThat(bad.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(bad.exitValue()).isEqualTo(2);
    assertThat(stderr(bad)).isEqualTo("weather: --version: expected v1 or v2, got 'v9'\n");

    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.76.9"))) {
      Process clash =
          start(
              Map.of(),
              "--role",
              "forecast",
              "--bind",
              "127.0.76.9",
              "--port",
              Integer.toString(busy.getLocalPort()));
      assertThat(clash.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(clash.exitValue()).isEqualTo(1);
      assertThat(stderr(clash))
          .startsWith(
              "weather: forecast v1: cannot listen on 127.0.76.9:" + busy.getLocalPort() + " (");
    }
  }

  private Process start(Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment()
        .keySet()
        .removeIf(
            k ->
                k.startsWith("WEATHER_") || k.endsWith("_URL") || k.equalsIgnoreCase("http_proxy"));
    pb.environment().putAll(env);
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  private static URI serving(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      Matcher m = SERVING.matcher(line);
      if (m.find()) {
        return URI.create(m.group(2));
      }
    }
    throw new IllegalStateException("process exited before serving: " + stderr(p));
  }

  private static String stderr(Process p) throws IOException {
    return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
