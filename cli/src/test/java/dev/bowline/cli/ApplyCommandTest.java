package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Kind;
import dev.bowline.api.ResourceKey;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bowline apply/delete} against a real control plane (its config API over HTTP), with the
 * Weather app's own scenario files.
 */
class ApplyCommandTest {
  static final Path CONFIG = Path.of("../samples/weather/config").toAbsolutePath().normalize();
  static final ResourceKey FORECAST = new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", "forecast");

  @TempDir Path dir;
  ControlPlane cp;
  ConfigFeed feed;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS.withPorts(0, 0),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(cp, List.of(), Clock.systemUTC());
    cp.start();
  }

  @AfterEach
  void stop() {
    feed.close();
    cp.close();
  }

  int run(String... args) {
    CommandLine cli = Main.newCommandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--control-plane";
    all[args.length + 1] = "http://127.0.0.1:" + cp.monitoringPort();
    return cli.execute(all);
  }

  String forecastV2Weight() {
    return feed.store().get(FORECAST).orElseThrow().toString();
  }

  @Test
  void applyDirectoriesThenAScenarioThenDelete() throws Exception {
    assertThat(run("apply", "-f", CONFIG.resolve("base").toString())).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("Gateway weather/weather-gateway configured")
        .contains("VirtualService weather/forecast configured");
    assertThat(run("apply", "-f", CONFIG.resolve("canary-weight").toString())).isZero();
    assertThat(out.toString()).contains("VirtualService weather/forecast configured");
    assertThat(feed.store().get(FORECAST).orElseThrow().spec().toString()).contains("weight=20");

    assertThat(run("delete", "-f", CONFIG.resolve("canary-weight/forecast.yaml").toString()))
        .isZero();
    assertThat(out.toString()).contains("VirtualService weather/forecast deleted");
    assertThat(feed.store().get(FORECAST)).isEmpty();
  }

  @Test
  void anInvalidFileIsRefusedWithItsResourceAndFieldAndNothingChanges() throws Exception {
    assertThat(run("apply", "-f", CONFIG.resolve("canary-weight").toString())).isZero();
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad,
        Files.readString(CONFIG.resolve("canary-weight/forecast.yaml"))
            .replace("weight: 20", "weight: -20"));
    Files.writeString(
        dir.resolve("ok.yaml"), Files.readString(CONFIG.resolve("base/gateway.yaml")));
    assertThat(run("apply", "-f", dir.toString())).isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "VirtualService weather/forecast: spec.http[0].route[1].weight: must not be negative")
        .contains("bowline apply: refused, nothing applied");
    assertThat(feed.store().get(FORECAST).orElseThrow().spec().toString()).contains("weight=20");
    assertThat(feed.store().get(new ResourceKey(Kind.GATEWAY, "weather", "weather-gateway")))
        .isEmpty();
  }

  @Test
  void anUnreachableControlPlaneIsNamed() {
    CommandLine cli = Main.newCommandLine();
    cli.setErr(new PrintWriter(err, true));
    assertThat(
            cli.execute(
                "apply",
                "-f",
                CONFIG.resolve("base").toString(),
                "--control-plane",
                "http://127.0.0.1:1"))
        .isEqualTo(1);
    assertThat(err.toString()).contains("cannot reach the control plane at http://127.0.0.1:1");
  }
}
