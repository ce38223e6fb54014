package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.MeshRegistry;
import dev.bowline.controlplane.registry.MeshRegistryTest;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/** CDS and EDS for ServiceEntry services, by resolution, as istiod emits them. */
class ServiceEntryClustersTest {
  static PushContext push(String yaml) {
    ConfigSnapshot config = MeshRegistryTest.config(yaml);
    MeshRegistry mesh = new MeshRegistry(new LocalRegistry("cluster.local"));
    mesh.updateConfig(config);
    return new PushContext(
        1, mesh.snapshot(), IstioConfigInputs.of(config, "cluster.local", "istio-system"));
  }

  static Proxy sidecar(String ns) {
    return Proxy.builder(
            "sidecar~127.0.0.9~app." + ns + "~" + ns + ".svc.cluster.local",
            NodeType.SIDECAR,
            "127.0.0.9",
            "app",
            ns,
            ns + ".svc.cluster.local")
        .build();
  }

  @Test
  void clustersFollowTheResolution() {
    PushContext push =
        push(
            MeshRegistryTest.ENTRIES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: api, namespace: shop}
                spec:
                  host: api.example.com
                  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
                  subsets: [{name: eu, labels: {}}]
                """);
    SortedMap<String, Message> cds =
        new ClusterGenerator().generate(sidecar("shop"), push, ResourceNames.ALL);

    Cluster billing = (Cluster) cds.get("outbound|9000||billing.shop.example");
    assertThat(billing.getType()).isEqualTo(Cluster.DiscoveryType.EDS);

    Cluster api = (Cluster) cds.get("outbound|443||api.example.com");
    assertThat(api.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(api.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(api.getDnsLookupFamily()).isEqualTo(Cluster.DnsLookupFamily.V4_ONLY);
    assertThat(api.getRespectDnsTtl()).isTrue();
    assertThat(api.getDnsRefreshRate().getSeconds()).isEqualTo(60);
    assertThat(api.getLoadAssignment().getEndpointsList())
        .extracting(l -> l.getLocality().getRegion(), l -> l.getLoadBalancingWeight().getValue())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("", 1),
            org.assertj.core.groups.Tuple.tuple("eu", 2));
    assertThat(
            api.getLoadAssignment().getEndpointsList().stream()
                .flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()))
        .containsExactlyInAnyOrder("eu.api.example.com", "us.api.example.com");
    assertThat(cds).containsKey("outbound|443|eu|api.example.com");

    Cluster db = (Cluster) cds.get("outbound|5432||db.example.com");
    assertThat(db.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
    assertThat(db.getLoadAssignment().getEndpoints(0).getLbEndpointsCount()).isEqualTo(1);

    Cluster wild = (Cluster) cds.get("outbound|80||*.wild.example.com");
    assertThat(wild.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(wild.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);

    // EDS only for registry-resolved services; weights as given, locality weight = their sum.
    SortedMap<String, Message> eds =
        new EndpointGenerator().generate(sidecar("shop"), push, ResourceNames.ALL);
    assertThat(eds.keySet())
        .allMatch(
            n -> n.endsWith("billing.shop.example") || n.endsWith("billing-alias.shop.example"));
    ClusterLoadAssignment cla =
        (ClusterLoadAssignment) eds.get("outbound|9000||billing.shop.example");
    LbEndpoint only = cla.getEndpoints(0).getLbEndpoints(0);
    assertThat(only.getLoadBalancingWeight().getValue()).isEqualTo(3);
    assertThat(cla.getEndpoints(0).getLoadBalancingWeight().getValue()).isEqualTo(3);
    assertThat(
            new EndpointGenerator()
                .generate(
                    sidecar("shop"),
                    push,
                    ResourceNames.of(Set.of("outbound|443||api.example.com"))))
        .isEmpty();
  }

  @Test
  void exportToHidesServiceEntriesFromOtherNamespaces() {
    PushContext push = push(MeshRegistryTest.ENTRIES);
    assertThat(push.visibleServices(sidecar("shop")))
        .extracting(s -> s.hostname())
        .contains("billing.shop.example", "api.example.com");
    assertThat(push.visibleServices(sidecar("weather")))
        .extracting(s -> s.hostname())
        .doesNotContain("billing.shop.example", "billing-alias.shop.example")
        .contains("api.example.com");
    assertThat(new ClusterGenerator().generate(sidecar("weather"), push, ResourceNames.ALL))
        .doesNotContainKey("outbound|9000||billing.shop.example");
  }
}
