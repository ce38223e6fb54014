package dev.bowline.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.config.ConfigSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ServiceEntry, WorkloadEntry and WorkloadGroup into the one registry, by Istio's conversion rules,
 * merged with the local registry.
 */
public class MeshRegistryTest {
  public static ConfigSnapshot config(String yaml) {
    Decoded d = new ResourceCodec().decode("test.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    Map<dev.bowline.api.ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    return new ConfigSnapshot(1, m);
  }

  public static final String ENTRIES =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: billing, namespace: shop}
      spec:
        hosts: [billing.shop.example, billing-alias.shop.example]
        addresses: [240.0.0.10]
        location: MESH_INTERNAL
        resolution: STATIC
        ports:
        - {number: 9000, name: grpc, protocol: GRPC, targetPort: 9999}
        - {number: 9001, name: http-admin, protocol: HTTP}
        workloadSelector: {labels: {app: billing}}
        exportTo: ["."]
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: billing-a, namespace: shop}
      spec:
        address: 127.0.0.12
        ports: {grpc: 7000}
        labels: {app: billing, version: v1}
        locality: eu/zone-a/rack1
        network: net1
        weight: 3
        serviceAccount: billing-sa
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: other, namespace: shop}
      spec:
        address: 127.0.0.13
        labels: {app: other}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: external-api, namespace: shop}
      spec:
        hosts: [api.example.com]
        location: MESH_EXTERNAL
        resolution: DNS
        ports: [{number: 443, name: tls, protocol: TLS}]
        endpoints:
        - {address: eu.api.example.com, locality: eu, weight: 2}
        - {address: us.api.example.com, labels: {security.istio.io/tlsMode: istio}}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: self-resolved, namespace: shop}
      spec:
        hosts: [db.example.com]
        resolution: DNS_ROUND_ROBIN
        ports: [{number: 5432, name: tcp, protocol: TCP}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: passthrough, namespace: shop}
      spec:
        hosts: ["*.wild.example.com"]
        location: MESH_EXTERNAL
        resolution: NONE
        ports: [{number: 80, name: http, protocol: HTTP}]
      """;

  @Test
  void serviceEntriesBecomeServicesWithIstiosEndpointRules() {
    LocalRegistry local = new LocalRegistry("cluster.local");
    MeshRegistry mesh = new MeshRegistry(local);
    List<RegistryChange> changes = new ArrayList<>();
    mesh.addListener(changes::add);
    mesh.updateConfig(config(ENTRIES));

    RegistrySnapshot snap = mesh.snapshot();
    assertThat(changes).hasSize(1);
    assertThat(changes.getFirst().servicesChanged()).isTrue();
    assertThat(snap.services())
        .extracting(Service::hostname)
        .containsExactly(
            "*.wild.example.com",
            "api.example.com",
            "billing-alias.shop.example",
            "billing.shop.example",
            "db.example.com");

    Service billing = snap.service("billing.shop.example").orElseThrow();
    assertThat(billing.resolution()).isEqualTo(Resolution.STATIC);
    assertThat(billing.meshExternal()).isFalse();
    assertThat(billing.addresses()).containsExactly("240.0.0.10");
    assertThat(billing.origin()).isEqualTo("ServiceEntry shop/billing");
    assertThat(billing.isExportedTo("shop")).isTrue();
    assertThat(billing.isExportedTo("weather")).isFalse();
    assertThat(billing.ports())
        .containsExactly(
            new ServicePort("grpc", 9000, Protocol.GRPC, 9999),
            new ServicePort("http-admin", 9001, Protocol.HTTP, 9001));

    // Port by name from the WorkloadEntry, else the targetPort; only the selected entry.
    Endpoint grpc = snap.endpoints("billing.shop.example", 9000).getFirst();
    assertThat(snap.endpoints("billing.shop.example", 9000)).hasSize(1);
    assertThat(grpc.address()).isEqualTo("127.0.0.12");
    assertThat(grpc.port()).isEqualTo(7000);
    assertThat(grpc.weight()).isEqualTo(3);
    assertThat(grpc.locality()).isEqualTo(new Locality("eu", "zone-a", "rack1"));
    assertThat(grpc.network()).isEqualTo("net1");
    assertThat(grpc.serviceAccount()).isEqualTo("billing-sa");
    assertThat(grpc.workloadName()).isEqualTo("billing-a");
    assertThat(grpc.labels())
        .containsEntry("version", "v1")
        .containsEntry(Endpoint.TLS_MODE_LABEL, "istio");
    assertThat(snap.endpoints("billing.shop.example", 9001).getFirst().port()).isEqualTo(9001);
    // Every host of the entry is its own service with the same endpoints.
    assertThat(snap.endpoints("billing-alias.shop.example", 9000)).hasSize(1);

    // MESH_EXTERNAL: tlsMode disabled whatever the entry says; DNS names kept as addresses.
    Service api = snap.service("api.example.com").orElseThrow();
    assertThat(api.resolution()).isEqualTo(Resolution.DNS);
    assertThat(api.meshExternal()).isTrue();
    assertThat(snap.endpoints("api.example.com", 443))
        .extracting(
            Endpoint::address, Endpoint::weight, e -> e.labels().get(Endpoint.TLS_MODE_LABEL))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("eu.api.example.com", 2, "disabled"),
            org.assertj.core.groups.Tuple.tuple("us.api.example.com", 1, "disabled"));
    assertThat(snap.endpoints("api.example.com", 443).getFirst().locality().region())
        .isEqualTo("eu");

    // DNS without endpoints resolves its own host; NONE has none; resolution defaults to NONE.
    assertThat(snap.endpoints("db.example.com", 5432))
        .extracting(Endpoint::address, Endpoint::port)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("db.example.com", 5432));
    assertThat(snap.service("db.example.com").orElseThrow().resolution())
        .isEqualTo(Resolution.DNS_ROUND_ROBIN);
    assertThat(snap.endpoints("*.wild.example.com", 80)).isEmpty();
    assertThat(snap.service("*.wild.example.com").orElseThrow().resolution())
        .isEqualTo(Resolution.NONE);
    assertThat(mesh.warnings()).isEmpty();
  }

  @Test
  void localServicesWinTheirHostAndSelectWorkloadEntriesLikePods() {
    LocalRegistry local = new LocalRegistry("cluster.local");
    local.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(new ServicePort("http", 3002, Protocol.HTTP, 13002)),
            Map.of(),
            Map.of()));
    local.putWorkload(
        new Workload(
            "weather",
            "forecast-v1",
            Map.of("app", "forecast", "version", "v1"),
            "127.0.0.5",
            Map.of(),
            "forecast",
            Locality.NONE,
            "",
            HealthStatus.HEALTHY));
    MeshRegistry mesh = new MeshRegistry(local);
    mesh.updateConfig(
        config(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: forecast-vm, namespace: weather}
            spec:
              address: 127.0.0.40
              labels: {app: forecast, version: v2}
              ports: {http: 8080}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: shadow, namespace: weather}
            spec:
              hosts: [forecast.weather.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 80, name: http, protocol: HTTP}]
              endpoints: [{address: 127.0.0.99}]
            """));
    RegistrySnapshot snap = mesh.snapshot();
    Service forecast = snap.service("forecast.weather.svc.cluster.local").orElseThrow();
    assertThat(forecast.origin()).isEqualTo("local");
    assertThat(snap.endpoints(forecast.hostname(), 3002))
        .extracting(Endpoint::address, Endpoint::port)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("127.0.0.5", 13002),
            org.assertj.core.groups.Tuple.tuple("127.0.0.40", 8080));
    assertThat(mesh.warnings())
        .singleElement()
        .asString()
        .contains("ServiceEntry weather/shadow: spec.hosts[0]")
        .contains("already a registry service");

    // A change on the local side flows through with an EDS-only change.
    List<RegistryChange> changes = new ArrayList<>();
    mesh.addListener(changes::add);
    local.removeWorkload("weather", "forecast-v1");
    assertThat(changes)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.servicesChanged()).isFalse();
              assertThat(c.endpointHosts()).containsExactly(forecast.hostname());
            });
    assertThat(mesh.snapshot().endpoints(forecast.hostname(), 3002)).hasSize(1);
  }

  @Test
  void workloadGroupTemplatesRegisterConnectedProxiesUntilTheyLeave() {
    MeshRegistry mesh = new MeshRegistry(new LocalRegistry("cluster.local"));
    mesh.updateConfig(
        config(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadGroup
            metadata: {name: billing-vm, namespace: shop}
            spec:
              metadata: {labels: {app: billing, version: vm}}
              template: {ports: {grpc: 7100}, serviceAccount: billing-vm, network: vpc1, locality: eu/zone-c, weight: 2}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: billing, namespace: shop}
            spec:
              hosts: [billing.shop.example]
              resolution: STATIC
              ports: [{number: 9000, name: grpc, protocol: GRPC}]
              workloadSelector: {labels: {app: billing}}
            """));
    assertThat(mesh.snapshot().endpoints("billing.shop.example", 9000)).isEmpty();

    mesh.autoRegister("s1", "shop", "billing-vm", "127.0.0.44", Map.of("host", "vm1"));
    Endpoint e = mesh.snapshot().endpoints("billing.shop.example", 9000).getFirst();
    assertThat(e.workloadName()).isEqualTo("billing-vm-127.0.0.44");
    assertThat(e.port()).isEqualTo(7100);
    assertThat(e.serviceAccount()).isEqualTo("billing-vm");
    assertThat(e.network()).isEqualTo("vpc1");
    assertThat(e.weight()).isEqualTo(2);
    assertThat(e.labels()).containsEntry("version", "vm").containsEntry("host", "vm1");

    mesh.autoRegister("s2", "shop", "no-such-group", "127.0.0.45", Map.of());
    assertThat(mesh.warnings())
        .singleElement()
        .asString()
        .contains("WorkloadGroup shop/no-such-group: not found");

    mesh.unregister("s1");
    assertThat(mesh.snapshot().endpoints("billing.shop.example", 9000)).isEmpty();
  }
}
