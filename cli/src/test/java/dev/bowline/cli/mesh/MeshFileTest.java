package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.cli.mesh.MeshFile.InvalidMeshException;
import dev.bowline.cli.mesh.MeshSpec.Port;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshFileTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private static List<String> errors(String yaml) {
    try {
      MeshFile.parse(yaml, Path.of("/tmp/mesh.yaml"));
    } catch (InvalidMeshException e) {
      return e.errors();
    }
    throw new AssertionError("expected errors for:\n" + yaml);
  }

  @Test
  void theWeatherMeshParses() throws Exception {
    MeshSpec spec = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    assertThat(spec.workloads())
        .extracting(w -> w.namespace() + "/" + w.name() + " " + w.app() + " " + w.version())
        .containsExactly(
            "weather/frontend-v1 frontend v1",
            "weather/forecast-v1 forecast v1",
            "weather/forecast-v2 forecast v2",
            "weather/advertisement-v1 advertisement v1",
            "weather/recommendation-v1 recommendation v1");
    MeshSpec.Workload rec = spec.workloads().get(4);
    assertThat(rec.ports())
        .containsExactly(
            new Port("http-recommendation", 3005, 0), new Port("grpc-recommendation", 3006, 0));
    assertThat(rec.run()).isEqualTo(new MeshSpec.Role("recommendation"));
    assertThat(rec.healthPath()).isEqualTo("/health");
    assertThat(rec.locality()).isEqualTo("region1/zone1");
    assertThat(spec.configDirs())
        .containsExactly(
            ROOT.resolve("samples/weather/config/base"),
            ROOT.resolve("samples/weather/config/local-mode"));
  }

  @Test
  void defaultsAndCommands() throws Exception {
    MeshSpec spec =
        MeshFile.parse(
            """
            workloads:
            - name: web
              labels: {app: web}
              ports: [{name: http, number: 8080, targetPort: 18080}]
              replicas: 3
              command: [python3, -m, http.server, "${BOWLINE_PORT_HTTP}"]
              env: {GREETING: hello}
            """,
            Path.of("/tmp/mesh.yaml"));
    MeshSpec.Workload w = spec.workloads().getFirst();
    assertThat(w.namespace()).isEqualTo("default");
    assertThat(w.serviceAccount()).isEqualTo("default");
    assertThat(w.replicas()).isEqualTo(3);
    assertThat(w.version()).isEmpty();
    assertThat(w.healthPath()).isEmpty();
    assertThat(w.env()).isEqualTo(Map.of("GREETING", "hello"));
    assertThat(w.run())
        .isEqualTo(
            new MeshSpec.Command(List.of("python3", "-m", "http.server", "${BOWLINE_PORT_HTTP}")));
    assertThat(w.ports()).containsExactly(new Port("http", 8080, 18080));
  }

  @Test
  void everyBadFieldIsNamedWithItsLine() {
    String yaml =
        """
        workloads:
        - name: frontend-v1
          namespace: weather
          labels: {app: frontend, version: v1}
          ports: [{name: http-frontend, number: 3000}]
          role: frontend
        - name: Forecast_V1
          namespace: weather
          labels: {version: v1}
          ports:
          - name: web
            number: 70000
          - {name: http-forecast, number: "3002", colour: blue}
          replicas: 0
          locality: a/b/c/d
          role: weatherman
        - name: ad
          namespace: weather
          labels: {app: advertisement, version: 2}
          ports: [{name: http-ad, number: 3003, targetPort: 3003}]
          command: [sleep, 60]
          role: advertisement
          health: health
        """;
    assertThat(errors(yaml))
        .containsExactly(
            "mesh.yaml:7: workloads[1].name: 'Forecast_V1' must be a DNS label: a-z, 0-9 and '-',"
                + " at most 56 characters",
            "mesh.yaml:9: workloads[1].labels.app: is required: it names the workload's service",
            "mesh.yaml:11: workloads[1].ports[0].name: 'web' must be <protocol>[-<suffix>] with a"
                + " protocol of [grpc, grpc-web, http, http2, https, mongo, mysql, redis, tcp, tls,"
                + " udp]",
            "mesh.yaml:12: workloads[1].ports[0].number: must be 1-65535",
            "mesh.yaml:13: workloads[1].ports[1].colour: unknown field (known: name, number,"
                + " targetPort)",
            "mesh.yaml:13: workloads[1].ports[1].number: must be a number 1-65535",
            "mesh.yaml:14: workloads[1].replicas: must be 1-50",
            "mesh.yaml:15: workloads[1].locality: 'a/b/c/d' must be region/zone/subzone",
            "mesh.yaml:16: workloads[1].role: 'weatherman' is not one of [advertisement, forecast,"
                + " frontend, recommendation]",
            "mesh.yaml:19: workloads[2].labels.version: must be a string (quote it)",
            "mesh.yaml:20: workloads[2].ports[0].targetPort: must differ from number: the sidecar"
                + " takes 3003 and forwards to the app on targetPort",
            "mesh.yaml:17: workloads[2]: has both role and command; give one",
            "mesh.yaml:23: workloads[2].health: 'health' must be an HTTP path starting with '/'");
  }

  @Test
  void gatewaysTakeIstiosDefaultsAndNameTheirBadFields() throws Exception {
    MeshSpec weather = MeshFile.read(ROOT.resolve("samples/weather/mesh.yaml"));
    assertThat(weather.gateways())
        .containsExactly(
            new MeshSpec.Gateway(
                "istio-ingressgateway",
                "istio-system",
                Map.of("istio", "ingressgateway", "app", "istio-ingressgateway"),
                "127.0.0.1",
                List.of(new Port("http2", 80, 8080))));
    assertThat(weather.gateways().getFirst().nodeId())
        .isEqualTo(
            "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local");
    MeshSpec defaults =
        MeshFile.parse(
            "workloads:\n- {name: a, labels: {app: a}, ports: [{name: http, number: 80}],"
                + " command: [x]}\ngateways:\n- {}\n",
            Path.of("/tmp/mesh.yaml"));
    assertThat(defaults.gateways()).isEqualTo(weather.gateways());
    assertThat(
            errors(
                "workloads:\n- {name: a, labels: {app: a}, ports: [{name: http, number: 80}],"
                    + " command: [x]}\ngateways:\n- name: in\n  address: 10.0.0.1\n"
                    + "  ports: [{name: web, number: 80}]\n  colour: red\n"))
        .containsExactly(
            "mesh.yaml:7: gateways[0].colour: unknown field (known: address, labels, name,"
                + " namespace, ports)",
            "mesh.yaml:5: gateways[0].address: '10.0.0.1' must be a loopback address 127.x.y.z",
            "mesh.yaml:6: gateways[0].ports[0].name: 'web' must be <protocol>[-<suffix>] with a"
                + " protocol of [grpc, grpc-web, http, http2, https, mongo, mysql, redis, tcp,"
                + " tls, udp]");
  }

  @Test
  void unknownTopLevelFieldsMissingWorkloadsAndBadYaml() {
    assertThat(errors("workload:\n- name: x\n"))
        .containsExactly(
            "mesh.yaml:1: workload: unknown field (known: config, gateways, workloads)",
            "mesh.yaml:1: workloads: is required");
    assertThat(
            errors(
                "workloads:\n- name: a\n  labels: {app: a}\n  replicas: 4294967297\n"
                    + "  ports: [{name: tcp, number: 18446744073709551617}]\n  command: [x]\n"))
        .containsExactly(
            "mesh.yaml:5: workloads[0].ports[0].number: must be 1-65535",
            "mesh.yaml:4: workloads[0].replicas: must be 1-50");
    assertThat(errors("workloads: []\n"))
        .containsExactly("mesh.yaml:1: workloads: must list at least one workload");
    assertThat(errors("workloads:\n- name: a\n  name: b\n"))
        .singleElement()
        .asString()
        .startsWith("mesh.yaml:3: not valid YAML: Duplicate field 'name'");
    assertThat(errors("workloads: [\n")).singleElement().asString().startsWith("mesh.yaml:");
    assertThat(errors("- just\n- a list\n"))
        .containsExactly("mesh.yaml:1: must be a mapping with a 'workloads' list");
  }

  @Test
  void workloadsOfOneServiceAgreeOnPortsAndNamesAreUnique() {
    String yaml =
        """
        workloads:
        - name: forecast-v1
          labels: {app: forecast}
          ports: [{name: http-forecast, number: 3002}]
          role: forecast
        - name: forecast-v2
          labels: {app: forecast, version: v2}
          ports: [{name: http-forecast, number: 3012}]
          role: forecast
        - name: forecast-v1
          labels: {app: other}
          ports: [{name: tcp, number: 9}]
          command: [sleep, "1"]
        """;
    assertThat(errors(yaml))
        .containsExactly(
            "mesh.yaml:8: workloads[1].ports: service default/forecast has ports"
                + " {http-forecast=3002} in workloads[0]; every workload of a service must list the"
                + " same names and numbers",
            "mesh.yaml:10: workloads[2].name: 'forecast-v1' is already used by workloads[0] in"
                + " namespace default");
  }

  @Test
  void configDirectoriesResolveAgainstTheFileAndMustExist(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("istio"));
    Path file = dir.resolve("mesh.yaml");
    Files.writeString(
        file,
        """
        config: [istio, missing]
        workloads:
        - name: a
          labels: {app: a}
          ports: [{name: tcp, number: 7}]
          command: [sleep, "1"]
        """);
    assertThatThrownBy(() -> MeshFile.read(file))
        .isInstanceOf(InvalidMeshException.class)
        .hasMessage(
            "mesh.yaml:1: config[1]: 'missing' is not a directory ("
                + dir.resolve("missing")
                + ")");
  }
}
