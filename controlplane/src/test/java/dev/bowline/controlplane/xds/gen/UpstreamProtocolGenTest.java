package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The upstream HTTP protocol of clusters, as istiod 1.16 sets it: HTTP/2 for gRPC/HTTP2 ports;
 * MeshConfig {@code h2UpgradePolicy: UPGRADE} upgrades outbound HTTP ports unless a DestinationRule
 * says {@code DO_NOT_UPGRADE}; a DestinationRule's {@code UPGRADE} upgrades whatever the port;
 * sniffed ports use the downstream's protocol, inbound and outbound.
 */
class UpstreamProtocolGenTest {
  static final String ENTRIES =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: svc, namespace: shop}
      spec:
        hosts: [svc.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports:
        - {number: 8080, name: http-api}
        - {number: 9090, name: grpc-api}
        - {number: 7000, name: data}
        - {number: 5432, name: tcp-db}
        endpoints: [{address: 127.0.0.9}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: legacy, namespace: shop}
      spec:
        hosts: [legacy.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports: [{number: 8081, name: http}]
        endpoints: [{address: 127.0.0.21}]
      """;

  static Map<String, ?> cds(String extra, MeshConfig mesh) {
    PushContext push = MeshConfigGenTest.push(ENTRIES + extra, mesh);
    return new ClusterGenerator().generate(MeshConfigGenTest.proxy(), push, ResourceNames.ALL);
  }

  /** {@code h2}, {@code downstream}, {@code h1} or {@code -} (no HTTP protocol options). */
  static String protocol(Map<String, ?> clusters, String name) throws Exception {
    Cluster c = (Cluster) clusters.get(name);
    assertThat(c).as(name).isNotNull();
    var any = c.getTypedExtensionProtocolOptionsMap().get(ClusterPolicies.HTTP_OPTIONS);
    if (any == null) {
      return "-";
    }
    HttpProtocolOptions o = any.unpack(HttpProtocolOptions.class);
    if (o.hasUseDownstreamProtocolConfig()) {
      return "downstream";
    }
    return o.getExplicitHttpConfig().hasHttp2ProtocolOptions() ? "h2" : "h1";
  }

  @Test
  void istiosDefaultsByPortProtocol() throws Exception {
    Map<String, ?> cds = cds("", MeshConfig.defaults());
    assertThat(protocol(cds, "outbound|8080||svc.shop.example")).isEqualTo("-");
    assertThat(protocol(cds, "outbound|9090||svc.shop.example")).isEqualTo("h2");
    assertThat(protocol(cds, "outbound|7000||svc.shop.example")).isEqualTo("downstream");
    assertThat(protocol(cds, "outbound|5432||svc.shop.example")).isEqualTo("-");
    // the proxy's own instance (127.0.0.9): inbound clusters by the same rule
    assertThat(protocol(cds, "inbound|9090||")).isEqualTo("h2");
    assertThat(protocol(cds, "inbound|7000||")).isEqualTo("downstream");
    assertThat(protocol(cds, "inbound|8080||")).isEqualTo("-");
  }

  @Test
  void meshConfigUpgradesHttpPortsUnlessADestinationRuleSaysNo() throws Exception {
    String doNotUpgrade =
        """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: legacy, namespace: shop}
        spec:
          host: legacy.shop.example
          trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}}
        """;
    Map<String, ?> cds = cds(doNotUpgrade, MeshConfigGenTest.mesh("h2UpgradePolicy: UPGRADE"));
    assertThat(protocol(cds, "outbound|8080||svc.shop.example")).isEqualTo("h2");
    assertThat(protocol(cds, "outbound|8081||legacy.shop.example")).isEqualTo("-");
    // sniffed and TCP ports are not upgraded by the mesh (the app may speak HTTP/1.1 only)
    assertThat(protocol(cds, "outbound|7000||svc.shop.example")).isEqualTo("downstream");
    assertThat(protocol(cds, "outbound|5432||svc.shop.example")).isEqualTo("-");
    // inbound clusters are never upgraded
    assertThat(protocol(cds, "inbound|8080||")).isEqualTo("-");

    // DO_NOT_UPGRADE (the mesh's explicit default) leaves them
    Map<String, ?> off = cds("", MeshConfigGenTest.mesh("h2UpgradePolicy: DO_NOT_UPGRADE"));
    assertThat(protocol(off, "outbound|8080||svc.shop.example")).isEqualTo("-");
  }

  @Test
  void aDestinationRuleUpgradeWinsOnAnyPort() throws Exception {
    String upgrade =
        """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: svc, namespace: shop}
        spec:
          host: svc.shop.example
          trafficPolicy:
            connectionPool: {http: {h2UpgradePolicy: UPGRADE, maxRequestsPerConnection: 5}}
        """;
    Map<String, ?> cds = cds(upgrade, MeshConfig.defaults());
    assertThat(protocol(cds, "outbound|8080||svc.shop.example")).isEqualTo("h2");
    assertThat(protocol(cds, "outbound|7000||svc.shop.example")).isEqualTo("h2");
    assertThat(protocol(cds, "outbound|8081||legacy.shop.example")).isEqualTo("-");
    // the other HTTP options stay beside the protocol
    Cluster c = (Cluster) cds.get("outbound|8080||svc.shop.example");
    HttpProtocolOptions o =
        c.getTypedExtensionProtocolOptionsMap()
            .get(ClusterPolicies.HTTP_OPTIONS)
            .unpack(HttpProtocolOptions.class);
    assertThat(o.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue())
        .isEqualTo(5);
  }
}
