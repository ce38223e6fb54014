package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshRunnerTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path dir;
  private final StringWriter out = new StringWriter();

  private MeshRunner runner(Capabilities caps) throws Exception {
    return runner(caps, List.of());
  }

  private MeshRunner runner(Capabilities caps, List<Path> configDirs) throws Exception {
    MeshSpec spec = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    return new MeshRunner(
        spec,
        new MeshRunner.Options(
            "127.0.0.2",
            dir,
            ROOT.resolve("samples/weather/target/bowline-weather-all.jar"),
            configDirs,
            Duration.ofSeconds(60),
            Duration.ofSeconds(2),
            "127.0.0.1",
            15010,
            15014),
        caps,
        BowlineJvm.current("dev.bowline.cli.Main"),
        new PrintWriter(out, true));
  }

  @Test
  void unmeshedAppsGetDirectUrlsOfTheFirstInstanceOfEachService() throws Exception {
    try (MeshRunner r = runner(Capabilities.NONE)) {
      MeshPlan.Instance frontend = r.plan().instances().get(0);
      Map<String, String> env = r.appEnv(frontend);
      assertThat(env)
          .containsEntry("WEATHER_ROLE", "frontend")
          .containsEntry("WEATHER_VERSION", "v1")
          .containsEntry("WEATHER_BIND", "127.0.0.2")
          .containsEntry("WEATHER_PORT", "3000")
          .containsEntry("WEATHER_INSTANCE", "frontend-v1-0")
          .containsEntry("BOWLINE_PORT_HTTP_FRONTEND", "3000")
          .containsEntry("FORECAST_URL", "http://127.0.0.3:3002")
          .containsEntry("ADVERTISEMENT_URL", "http://127.0.0.5:3003")
          .containsEntry("RECOMMENDATION_URL", "http://127.0.0.6:3005")
          .doesNotContainKey("HTTP_PROXY");
      assertThat(r.appEnv(r.plan().instances().get(4))).containsEntry("WEATHER_GRPC_PORT", "3006");
    }
  }

  @Test
  void meshConfigDefaultConfigShapesTheSidecarsCommandLineAndBootstrap() throws Exception {
    Path config = java.nio.file.Files.createDirectories(dir.resolve("config"));
    java.nio.file.Files.writeString(
        config.resolve("mesh.yaml"),
        """
        trustDomain: corp.example
        defaultConfig:
          concurrency: 3
          terminationDrainDuration: 7s
          proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true", OTHER_ENV: x}
        """);
    try (MeshRunner r = runner(new Capabilities(true, false, true, false), List.of(config))) {
      MeshPlan.Instance forecastV2 = r.plan().instances().get(2);
      // Before the MeshConfig is read: the runner's own defaults.
      assertThat(r.sidecarSpec(forecastV2).argv()).containsSequence("--concurrency", "1");
      assertThat(r.loadMeshConfig().trustDomain()).isEqualTo("corp.example");
      List<String> argv = r.sidecarSpec(forecastV2).argv();
      assertThat(argv).containsSequence("--concurrency", "3");
      assertThat(argv).containsSequence("--drain-time-s", "7");
      assertThat(r.meshMetadata())
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("MESH_ID", "corp.example", "DNS_CAPTURE", "true"));
      String bootstrap =
          SidecarBootstrap.of(r.plan(), forecastV2, "127.0.0.1", 15010, null, r.meshMetadata());
      assertThat(bootstrap).contains("MESH_ID: corp.example").contains("DNS_CAPTURE");
    }
    java.nio.file.Files.writeString(
        config.resolve("mesh.yaml"), "outboundTrafficPolicy: {mode: SOMETIMES}\n");
    try (MeshRunner r = runner(new Capabilities(true, false, true, false), List.of(config))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(r::loadMeshConfig)
          .hasMessageContaining("outboundTrafficPolicy.mode");
    }
  }

  @Test
  void aUsersMeshYamlIsAppliedOverTheRunnersTracingProfile() throws Exception {
    Path config = java.nio.file.Files.createDirectories(dir.resolve("config"));
    java.nio.file.Files.writeString(
        config.resolve("mesh.yaml"),
        """
        accessLogFile: /dev/stdout
        defaultConfig: {concurrency: 2}
        """);
    try (MeshRunner r = runner(new Capabilities(true, true, true, false), List.of(config))) {
      var mesh = r.loadMeshConfig();
      assertThat(mesh.accessLogFile()).isEqualTo("/dev/stdout");
      assertThat(mesh.defaultConfig().concurrency()).isEqualTo(2);
      // the runner's profile survives: tracing on, its provider the default one, 100% sampled
      assertThat(mesh.enableTracing()).isTrue();
      assertThat(mesh.defaultProviders().tracing()).containsExactly("otel");
      assertThat(mesh.extensionProviders()).anySatisfy(p -> assertThat(p.name()).isEqualTo("otel"));
      assertThat(mesh.defaultConfig().tracing().sampling()).isEqualTo(MeshTracing.SAMPLING);
    }
    // a user who names their own default tracing provider gets it; the runner's stays defined
    java.nio.file.Files.writeString(
        config.resolve("mesh.yaml"),
        """
        defaultProviders: {tracing: [zipkin]}
        extensionProviders:
        - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}
        """);
    try (MeshRunner r = runner(new Capabilities(true, true, true, false), List.of(config))) {
      var mesh = r.loadMeshConfig();
      assertThat(mesh.defaultProviders().tracing()).containsExactly("zipkin");
      assertThat(mesh.extensionProviders().stream().map(p -> p.name())).contains("zipkin", "otel");
    }
  }

  @Test
  void meshedAppsListenOnTargetPortsAndCallThroughTheirSidecar() throws Exception {
    try (MeshRunner r = runner(new Capabilities(true, false, true, false))) {
      MeshPlan.Instance forecastV2 = r.plan().instances().get(2);
      assertThat(r.appEnv(forecastV2))
          .containsEntry("WEATHER_PORT", "13002")
          .containsEntry("HTTP_PROXY", "http://127.0.0.4:15001")
          .doesNotContainKeys("FORECAST_URL", "RECOMMENDATION_URL");
      Supervisor.Spec sidecar = r.sidecarSpec(forecastV2);
      assertThat(sidecar.argv().subList(sidecar.argv().size() - 10, sidecar.argv().size()))
          .containsExactly(
              "dev.bowline.proxycli.ProxyMain",
              "proxy",
              "-c",
              dir.resolve("forecast-v2-0.weather/bootstrap.yaml").toString(),
              "--concurrency",
              "1",
              "--merged-metrics",
              "127.0.0.4:15020",
              "--drain-time-s",
              "1");
      assertThat(sidecar.probe())
          .isEqualTo(
              new Supervisor.Probe.All(
                  List.of(
                      new Supervisor.Probe.Http(
                          java.net.URI.create("http://127.0.0.4:15000/ready")),
                      new Supervisor.Probe.Tcp("127.0.0.4", 15001),
                      new Supervisor.Probe.Tcp("127.0.0.4", 3002))));
    }
  }
}
