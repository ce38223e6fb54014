package dev.bowline.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalRegistryTest {
  static final String YAML =
      """
      services:
      - namespace: weather
        name: forecast
        ports:
        - {name: grpc, port: 8080}
        - {name: http-web, port: 80, targetPort: 8081}
      workloads:
      - namespace: weather
        name: forecast-v1
        labels: {app: forecast, version: v1}
        address: 127.0.0.11
        serviceAccount: forecast
        locality: us-east/zone-a/rack1
      - namespace: weather
        name: forecast-v2
        labels: {app: forecast, version: v2}
        address: 127.0.0.12
        ports: {grpc: 9090}
        network: net-2
        health: UNHEALTHY
      - namespace: other
        name: forecast-elsewhere
        labels: {app: forecast}
        address: 127.0.0.13
      """;

  @Test
  void fileBuildsServicesWithIstioHostnamesAndEndpointsFromSelectors(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("registry.yaml");
    Files.writeString(file, YAML);
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.read(file));

    RegistrySnapshot snap = registry.snapshot();
    Service forecast = snap.service("forecast.weather.svc.cluster.local").orElseThrow();
    assertThat(forecast.ports())
        .containsExactly(
            new ServicePort("grpc", 8080, Protocol.GRPC, 8080),
            new ServicePort("http-web", 80, Protocol.HTTP, 8081));

    // The workload in another namespace is not selected; v2 maps the grpc port itself.
    assertThat(snap.endpoints("forecast.weather.svc.cluster.local", 8080))
        .extracting(Endpoint::address, Endpoint::port, Endpoint::health)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("127.0.0.11", 8080, HealthStatus.HEALTHY),
            org.assertj.core.groups.Tuple.tuple("127.0.0.12", 9090, HealthStatus.UNHEALTHY));
    assertThat(snap.endpoints("forecast.weather.svc.cluster.local", 80))
        .extracting(Endpoint::port)
        .containsExactly(8081, 8081);
    Endpoint v1 = snap.endpoints("forecast.weather.svc.cluster.local", 8080).get(0);
    assertThat(v1.locality()).isEqualTo(new Locality("us-east", "zone-a", "rack1"));
    assertThat(v1.spiffeId("cluster.local"))
        .isEqualTo("spiffe://cluster.local/ns/weather/sa/forecast");
    assertThat(snap.instancesAt("127.0.0.12")).extracting(Endpoint::network).containsOnly("net-2");
  }

  @Test
  void shortNamesResolveByNamespace() throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(YAML, "test"));
    RegistrySnapshot snap = registry.snapshot();
    assertThat(snap.resolve("forecast", "weather"))
        .map(Service::hostname)
        .hasValue("forecast.weather.svc.cluster.local");
    assertThat(snap.resolve("forecast.weather", "other")).isPresent();
    assertThat(snap.resolve("forecast.weather.svc", "other")).isPresent();
    assertThat(snap.resolve("forecast.weather.svc.cluster.local", "other")).isPresent();
    assertThat(snap.resolve("forecast", "other")).isEmpty();
    assertThat(Hostnames.resolve("forecast:8080", "weather", "cluster.local"))
        .isEqualTo("forecast.weather.svc.cluster.local:8080");
  }

  @Test
  void changesSayWhetherServicesOrOnlyEndpointsChanged() throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    List<RegistryChange> changes = new ArrayList<>();
    registry.addListener(changes::add);
    registry.replaceAll(RegistryFile.parse(YAML, "test"));
    assertThat(changes.getLast().servicesChanged()).isTrue();

    registry.putWorkload(
        new Workload(
            "weather",
            "forecast-v3",
            Map.of("app", "forecast"),
            "127.0.0.14",
            Map.of(),
            "default",
            Locality.NONE,
            "",
            HealthStatus.HEALTHY));
    assertThat(changes.getLast().servicesChanged()).isFalse();
    assertThat(changes.getLast().endpointHosts())
        .containsExactly("forecast.weather.svc.cluster.local");

    int before = changes.size();
    registry.putWorkload( // selected by no service: nothing to push
        new Workload(
            "weather",
            "lonely",
            Map.of("app", "lonely"),
            "127.0.0.15",
            Map.of(),
            "default",
            Locality.NONE,
            "",
            HealthStatus.HEALTHY));
    assertThat(changes).hasSize(before);
  }

  @Test
  void badFileNamesEveryBadField() {
    String bad =
        """
        services:
        - namespace: weather
          ports: [{name: grpc, port: 70000}]
        workloads:
        - namespace: weather
          name: w
          address: not-an-ip
          locality: a/b/c/d
          health: SICK
          colour: blue
        """;
    assertThatThrownBy(() -> RegistryFile.parse(bad, "registry.yaml"))
        .isInstanceOf(RegistryFile.InvalidRegistryException.class)
        .satisfies(
            e ->
                assertThat(((RegistryFile.InvalidRegistryException) e).errors())
                    .containsExactlyInAnyOrder(
                        "services[0].name: is required",
                        "services[0].ports[0].port: '70000' is not a port number 1..65535",
                        "workloads[0].colour: unknown field (known: [address, health, labels,"
                            + " locality, name, namespace, network, ports, serviceAccount])",
                        "workloads[0].address: 'not-an-ip' is not an IP address",
                        "workloads[0].locality: locality 'a/b/c/d': expected region/zone/subzone"
                            + " (at most two '/')",
                        "workloads[0].health: 'SICK' is not one of HEALTHY, UNHEALTHY, DRAINING"))
        .hasMessageStartingWith("registry.yaml: ");
  }
}
