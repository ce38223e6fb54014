package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/** A Sidecar resource scopes what a proxy gets: clusters, routes, listeners. */
class SidecarResourceTest {
  static final String ENTRIES =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: a, namespace: shop}
      spec:
        hosts: [a.shop.example]
        resolution: STATIC
        ports: [{number: 8080, name: http, protocol: HTTP}]
        endpoints: [{address: 127.0.0.41}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: b, namespace: other}
      spec:
        hosts: [b.other.example]
        resolution: STATIC
        ports: [{number: 8080, name: http, protocol: HTTP}]
        endpoints: [{address: 127.0.0.42}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: c, namespace: other}
      spec:
        hosts: [c.other.example]
        resolution: STATIC
        ports: [{number: 8080, name: http, protocol: HTTP}]
        endpoints: [{address: 127.0.0.43}]
      """;

  static Proxy proxy(String ns, Map<String, String> labels, String interception) {
    return Proxy.builder(
            "sidecar~127.0.0.40~app." + ns + "~" + ns + ".svc.cluster.local",
            NodeType.SIDECAR,
            "127.0.0.40",
            "app",
            ns,
            ns + ".svc.cluster.local")
        .labels(labels)
        .interceptionMode(interception)
        .build();
  }

  static SortedMap<String, Message> cds(PushContext push, Proxy p) {
    return new ClusterGenerator().generate(p, push, ResourceNames.ALL);
  }

  @Test
  void egressHostsScopeClustersAndRoutesAndTheSelectorPicksTheSidecar() {
    PushContext push =
        ServiceEntryClustersTest.push(
            ENTRIES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: shop}
                spec:
                  egress: [{hosts: ["./*", "other/c.other.example"]}]
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: isolated, namespace: shop}
                spec:
                  workloadSelector: {labels: {app: isolated}}
                  egress: [{hosts: ["~/*"]}]
                """);
    Proxy p = proxy("shop", Map.of("app", "web"), "REDIRECT");
    assertThat(cds(push, p))
        .containsKeys("outbound|8080||a.shop.example", "outbound|8080||c.other.example")
        .doesNotContainKey("outbound|8080||b.other.example");
    RouteConfiguration rds =
        (RouteConfiguration)
            new SidecarRouteGenerator()
                .generate(p, push, ResourceNames.of(java.util.Set.of("8080")))
                .get("8080");
    assertThat(rds.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("a.shop.example:8080", "c.other.example:8080", "block_all");
    assertThat(rds.getVirtualHosts(2).getRoutes(0).getDirectResponse().getStatus()).isEqualTo(502);
    Listener outbound =
        (Listener)
            new SidecarListenerGenerator()
                .generate(p, push, ResourceNames.ALL)
                .get(SidecarListenerGenerator.VIRTUAL_OUTBOUND);
    assertThat(tcpCluster(outbound)).isEqualTo(ClusterGenerator.BLACK_HOLE);
    assertThat(push.scope(p).origin()).isEqualTo("Sidecar shop/default");
    // Computed once per push for the class: the same object for an equivalent proxy.
    assertThat(push.visibleServices(proxy("shop", Map.of("app", "web"), "REDIRECT")))
        .isSameAs(push.visibleServices(p));

    Proxy isolated = proxy("shop", Map.of("app", "isolated"), "REDIRECT");
    assertThat(push.visibleServices(isolated)).isEmpty();
    assertThat(cds(push, isolated).keySet()).noneMatch(n -> n.startsWith("outbound|"));
    Listener open =
        (Listener)
            new SidecarListenerGenerator()
                .generate(isolated, push, ResourceNames.ALL)
                .get(SidecarListenerGenerator.VIRTUAL_OUTBOUND);
    assertThat(tcpCluster(open)).isEqualTo(ClusterGenerator.PASSTHROUGH);
  }

  static String tcpCluster(Listener l) {
    try {
      return l.getFilterChains(0)
          .getFilters(0)
          .getTypedConfig()
          .unpack(TcpProxy.class)
          .getCluster();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void httpProxyAndIngressListenersComeFromTheSidecar() {
    PushContext push =
        ServiceEntryClustersTest.push(
            ENTRIES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: shop}
                spec:
                  ingress:
                  - port: {number: 9080, protocol: HTTP, name: http}
                    defaultEndpoint: 127.0.0.1:19080
                  egress:
                  - port: {number: 15080, protocol: HTTP_PROXY, name: proxy}
                    captureMode: NONE
                    hosts: ["other/*"]
                  - hosts: ["./*"]
                """);
    Proxy p = proxy("shop", Map.of(), "NONE");
    SortedMap<String, Message> lds =
        new SidecarListenerGenerator().generate(p, push, ResourceNames.ALL);
    assertThat(lds.keySet()).containsExactly("127.0.0.40_15080", "127.0.0.40_9080");
    Listener egress = (Listener) lds.get("127.0.0.40_15080");
    assertThat(egress.getAddress().getSocketAddress().getPortValue()).isEqualTo(15080);
    // Its route configuration has only the egress listener's own hosts, port-qualified.
    RouteConfiguration rds =
        (RouteConfiguration)
            new SidecarRouteGenerator().generate(p, push, ResourceNames.ALL).get("15080");
    assertThat(rds.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("b.other.example:8080", "c.other.example:8080", "allow_any");
    assertThat(rds.getVirtualHosts(0).getDomainsList()).containsExactly("b.other.example:8080");
    // The ingress listener forwards to the Sidecar's defaultEndpoint port on the workload.
    Cluster inbound = (Cluster) cds(push, p).get("inbound|19080||");
    assertThat(
            inbound
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getPortValue())
        .isEqualTo(19080);
    Cluster passthrough = (Cluster) cds(push, p).get(ClusterGenerator.PASSTHROUGH);
    assertThat(passthrough.getOriginalDstLbConfig().getUseHttpHeader()).isTrue();
  }
}
