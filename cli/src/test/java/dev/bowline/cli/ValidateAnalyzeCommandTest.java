package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ValidateAnalyzeCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = Main.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void validateAcceptsTheWeatherApp() {
    assertThat(run("validate", "-f", WeatherConfig.VALID.toString())).as(err.toString()).isZero();
    assertThat(err.toString()).isEmpty();
    assertThat(out.toString().lines())
        .hasSize(7)
        .allSatisfy(l -> assertThat(l).matches("\".*\\.yaml\" is valid"));
  }

  @Test
  void validatePrintsEachErrorOnItsOwnLine(@TempDir Path dir) throws Exception {
    WeatherConfig.broken(dir);
    assertThat(run("validate", "-f", dir.toString())).isEqualTo(1);
    assertThat(err.toString().lines())
        .containsExactly(
            "Gateway weather/frontend-gateway: spec.servers[0].port.protocol: unrecognized protocol \"HTTPX\"",
            "VirtualService weather/forecast: spec.http[1].retries.perTryTimeout: invalid duration \"1 second\"; write a number with a unit, e.g. 10s, 1.5s, 100ms");
    assertThat(out.toString())
        .contains("security.yaml\" is valid")
        .doesNotContain("routing.yaml\" is valid");

    // Fix the duration: now validation reaches the weight.
    Path routing = dir.resolve("routing.yaml");
    Files.writeString(routing, Files.readString(routing).replace("1 second", "1s"));
    err.getBuffer().setLength(0);
    assertThat(run("validate", "-f", routing.toString())).isEqualTo(1);
    assertThat(err.toString().lines())
        .containsExactly(
            "VirtualService weather/forecast: spec.http[1].route[1].weight: must not be negative");
  }

  @Test
  void validateChecksMeshYaml(@TempDir Path dir) throws Exception {
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(mesh, "defaultConfig: {drainDuration: 2500ms}\nenableAutoMtls: yes-please\n");
    assertThat(run("validate", "-f", mesh.toString())).isEqualTo(1);
    assertThat(err.toString().lines())
        .containsExactly("MeshConfig " + mesh + ": enableAutoMtls: must be true or false");
    Files.writeString(mesh, "defaultConfig: {drainDuration: 2500ms}\n");
    err.getBuffer().setLength(0);
    assertThat(run("validate", "-f", mesh.toString())).isEqualTo(1);
    assertThat(err.toString().lines())
        .containsExactly(
            "MeshConfig "
                + mesh
                + ": defaultConfig.drainDuration: only whole seconds are supported");
  }

  @Test
  void validateReadsStandardInput() {
    CommandLine cmd = Main.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    ValidateCommand validate = cmd.getSubcommands().get("validate").getCommand();
    validate.stdin =
        new java.io.ByteArrayInputStream(
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: weather}
            spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}}]}
            """
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(cmd.execute("validate", "-f", "-")).isEqualTo(1);
    assertThat(err.toString().lines())
        .containsExactly(
            "Gateway weather/gw: spec.servers[0].hosts: server must have at least one host");
  }

  @Test
  void validateSaysWhenAPathIsMissing() {
    assertThat(run("validate", "-f", "/nonexistent/x.yaml")).isEqualTo(1);
    assertThat(err.toString()).contains("no such file or directory: /nonexistent/x.yaml");
  }

  @Test
  void analyzeFindsNothingInTheWeatherApp() {
    assertThat(run("analyze", "-f", WeatherConfig.VALID.toString())).as(err.toString()).isZero();
    assertThat(out.toString()).startsWith("\u2714 No validation issues found when analyzing ");
  }

  @Test
  void analyzeReportsBrokenReferencesAsTextJsonAndYaml(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("vs.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ads, namespace: weather}
        spec:
          hosts: [ads]
          http:
          - route:
            - destination: {host: ads}
        """);
    assertThat(run("analyze", "-f", dir.toString())).isEqualTo(AnalyzeCommand.ISSUES_FOUND);
    assertThat(out.toString().lines())
        .containsExactly(
            "Error [IST0101] (VirtualService weather/ads) Referenced host not found: \"ads\"");
    assertThat(err.toString()).startsWith("Error: Analyzers found issues when analyzing ");

    out.getBuffer().setLength(0);
    assertThat(run("analyze", "-f", dir.toString(), "-o", "json")).isEqualTo(79);
    assertThat(out.toString())
        .contains(
            "\"code\" : \"IST0101\"",
            "\"level\" : \"Error\"",
            "\"origin\" : \"VirtualService weather/ads\"",
            "\"documentationUrl\" : \"https://istio.io/latest/docs/reference/config/analysis/ist0101/\"");

    out.getBuffer().setLength(0);
    assertThat(run("analyze", "-f", dir.toString(), "-o", "yaml")).isEqualTo(79);
    assertThat(out.toString())
        .contains("- code: \"IST0101\"", "origin: \"VirtualService weather/ads\"");
  }

  private static final Path SAMPLE = Path.of("../samples/weather");

  @Test
  void analyzeCountsTheMeshFilesServicesAndWorkloadsAsFound() {
    String base = SAMPLE.resolve("config/base").toString();
    assertThat(run("analyze", "-f", base)).isEqualTo(AnalyzeCommand.ISSUES_FOUND);
    assertThat(out.toString())
        .contains(
            "Error [IST0101] (VirtualService weather/forecast) Referenced host not found: \"forecast\"");
    out.getBuffer().setLength(0);

    // mesh.yaml runs frontend, forecast, advertisement and recommendation but no ingress gateway:
    // the Gateway's selector istio=ingressgateway matches no workload, as istioctl says in a
    // cluster without the ingress gateway pod.
    assertThat(run("analyze", "-f", base, "--mesh", SAMPLE.resolve("mesh.yaml").toString()))
        .isEqualTo(AnalyzeCommand.ISSUES_FOUND);
    assertThat(out.toString().lines())
        .containsExactly(
            "Error [IST0101] (Gateway weather/weather-gateway) Referenced selector not found: \"istio=ingressgateway\"");
  }

  @Test
  void analyzeReadsTheControlPlanesRegistryFile(@TempDir Path dir) throws Exception {
    Path registry = dir.resolve("registry.yaml");
    Files.writeString(
        registry,
        """
        services:
        - {namespace: weather, name: frontend, ports: [{name: http, port: 3000}]}
        - {namespace: weather, name: forecast, ports: [{name: http, port: 3002}]}
        - {namespace: weather, name: advertisement, ports: [{name: http, port: 3003}]}
        - {namespace: weather, name: recommendation, ports: [{name: http, port: 3005}]}
        workloads:
        - namespace: istio-system
          name: istio-ingressgateway-1
          labels: {istio: ingressgateway}
          address: 127.0.0.9
        """);
    String base = SAMPLE.resolve("config/base").toString();
    assertThat(run("analyze", "-f", base, "--registry", registry.toString()))
        .as(out + "" + err)
        .isZero();
    assertThat(out.toString()).startsWith("\u2714 No validation issues found");

    Files.writeString(registry, "services:\n- {name: forecast}\n");
    assertThat(run("analyze", "-f", base, "--registry", registry.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("services[0].namespace: required");
  }

  @Test
  void analyzeWithOnlyAMeshFileReadsItsConfigDirectories() {
    assertThat(run("analyze", "--mesh", SAMPLE.resolve("mesh.yaml").toString()))
        .isEqualTo(AnalyzeCommand.ISSUES_FOUND);
    assertThat(out.toString().lines())
        .containsExactly(
            "Error [IST0101] (Gateway weather/weather-gateway) Referenced selector not found: \"istio=ingressgateway\"");
    assertThat(err.toString()).contains("config/base", "config/local-mode");
  }
}
