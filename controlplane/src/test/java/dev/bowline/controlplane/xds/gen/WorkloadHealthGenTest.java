package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.MeshRegistry;
import dev.bowline.controlplane.registry.MeshRegistryTest;
import dev.bowline.controlplane.registry.RegistryChange;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Health reported by an auto-registered workload's agent (istiod's {@code istio.io/health}): the
 * entry's endpoints go UNHEALTHY in EDS, the other entries' stay HEALTHY, and a healthy report
 * brings them back; each change is an endpoint change of the service's host only.
 */
class WorkloadHealthGenTest {
  static final String CONFIG =
      """
      apiVersion: networking.istio.io/v1
      kind: WorkloadGroup
      metadata: {name: billing-vm, namespace: shop}
      spec:
        metadata: {labels: {app: billing}}
        template: {ports: {http: 7100}, serviceAccount: billing-vm}
        probe: {periodSeconds: 5, httpGet: {path: /ready, port: 7100}}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: billing, namespace: shop}
      spec:
        hosts: [billing.shop.example]
        resolution: STATIC
        ports: [{number: 9000, name: http}]
        workloadSelector: {labels: {app: billing}}
      """;

  static Map<String, HealthStatus> eds(MeshRegistry mesh, ConfigSnapshot config) {
    PushContext push =
        new PushContext(
            1, mesh.snapshot(), IstioConfigInputs.of(config, "cluster.local", "istio-system"));
    ClusterLoadAssignment cla =
        (ClusterLoadAssignment)
            new EndpointGenerator()
                .generate(ServiceEntryClustersTest.sidecar("shop"), push, ResourceNames.ALL)
                .get("outbound|9000||billing.shop.example");
    Map<String, HealthStatus> out = new TreeMap<>();
    cla.getEndpointsList().stream()
        .flatMap(l -> l.getLbEndpointsList().stream())
        .forEach(
            e ->
                out.put(
                    e.getEndpoint().getAddress().getSocketAddress().getAddress(),
                    e.getHealthStatus()));
    return out;
  }

  @Test
  void anUnhealthyReportMarksTheEntrysEndpointsUnhealthyUntilAHealthyOne() {
    ConfigSnapshot config = MeshRegistryTest.config(CONFIG);
    MeshRegistry mesh = new MeshRegistry(new LocalRegistry("cluster.local"));
    mesh.updateConfig(config);
    mesh.autoRegister("s1", "shop", "billing-vm", "127.0.0.44", Map.of());
    mesh.autoRegister("s2", "shop", "billing-vm", "127.0.0.45", Map.of());
    List<RegistryChange> changes = new ArrayList<>();
    mesh.addListener(changes::add);
    assertThat(eds(mesh, config))
        .isEqualTo(Map.of("127.0.0.44", HealthStatus.HEALTHY, "127.0.0.45", HealthStatus.HEALTHY));

    mesh.setHealth("s1", "http probe /ready returned 503");
    assertThat(eds(mesh, config))
        .containsEntry("127.0.0.44", HealthStatus.UNHEALTHY)
        .containsEntry("127.0.0.45", HealthStatus.HEALTHY);
    assertThat(changes)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.servicesChanged()).isFalse();
              assertThat(c.endpointHosts()).containsExactly("billing.shop.example");
            });

    // the same report again, or one on a stream that registered nothing: no change
    mesh.setHealth("s1", "http probe /ready returned 503");
    mesh.setHealth("other-stream", "anything");
    assertThat(changes).hasSize(1);

    mesh.setHealth("s1", null);
    assertThat(eds(mesh, config))
        .containsEntry("127.0.0.44", HealthStatus.HEALTHY)
        .containsEntry("127.0.0.45", HealthStatus.HEALTHY);
    assertThat(changes).hasSize(2);

    // a proxy that reconnects within the grace period (old stream not yet unregistered): its
    // latest report, on the new stream, decides; the entry's health goes with its last stream
    mesh.setHealth("s2", "down");
    mesh.autoRegister("s3", "shop", "billing-vm", "127.0.0.45", Map.of());
    assertThat(eds(mesh, config)).containsEntry("127.0.0.45", HealthStatus.UNHEALTHY);
    mesh.setHealth("s3", null);
    assertThat(eds(mesh, config)).containsEntry("127.0.0.45", HealthStatus.HEALTHY);
    mesh.setHealth("s3", "down again");
    mesh.unregister("s2");
    assertThat(eds(mesh, config)).containsEntry("127.0.0.45", HealthStatus.UNHEALTHY);
    mesh.unregister("s3");
    mesh.autoRegister("s4", "shop", "billing-vm", "127.0.0.45", Map.of());
    assertThat(eds(mesh, config)).containsEntry("127.0.0.45", HealthStatus.HEALTHY);
  }
}
