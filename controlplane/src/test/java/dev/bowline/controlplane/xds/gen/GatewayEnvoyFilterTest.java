package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** EnvoyFilter patches on gateway proxies: the GATEWAY context, and targetRefs to a Gateway. */
class GatewayEnvoyFilterTest {
  static final String FILTERS =
      """
      apiVersion: networking.istio.io/v1alpha3
      kind: EnvoyFilter
      metadata: {name: gateway-patches, namespace: istio-system}
      spec:
        workloadSelector: {labels: {istio: ingressgateway}}
        configPatches:
        - applyTo: HTTP_FILTER
          match: {context: GATEWAY}
          patch:
            operation: INSERT_FIRST
            value: {name: gateway-first}
        - applyTo: HTTP_FILTER
          match: {context: SIDECAR_OUTBOUND}
          patch:
            operation: INSERT_FIRST
            value: {name: sidecar-only}
        - applyTo: ROUTE_CONFIGURATION
          match: {context: GATEWAY, routeConfiguration: {portNumber: 8080}}
          patch:
            operation: MERGE
            value: {response_headers_to_add: [{header: {key: x-gateway, value: "1"}}]}
        - applyTo: CLUSTER
          match: {context: GATEWAY, cluster: {service: frontend.weather.svc.cluster.local}}
          patch:
            operation: MERGE
            value: {connect_timeout: 2s}
      ---
      apiVersion: networking.istio.io/v1alpha3
      kind: EnvoyFilter
      metadata: {name: by-target-ref, namespace: istio-system}
      spec:
        targetRefs:
        - {group: gateway.networking.k8s.io, kind: Gateway, name: edge}
        configPatches:
        - applyTo: HTTP_FILTER
          match: {context: GATEWAY}
          patch:
            operation: INSERT_FIRST
            value: {name: edge-only}
      """;

  static java.util.List<String> filterNames(Listener l) throws Exception {
    return GatewayGeneratorTest.hcm(l).getHttpFiltersList().stream()
        .map(HttpFilter::getName)
        .toList();
  }

  @Test
  void gatewayContextPatchesListenersRoutesAndClusters() throws Exception {
    var push =
        GatewayGeneratorTest.push(
            GatewayGeneratorTest.REGISTRY, GatewayGeneratorTest.weather() + "\n---\n" + FILTERS);
    var proxy = GatewayGeneratorTest.ingress("NONE");
    var lds = GatewayGeneratorTest.generate(proxy, push, TypeUrls.LISTENER, ResourceNames.ALL);
    assertThat(lds).isNotEmpty();
    for (var m : lds.values()) {
      var names = filterNames((Listener) m);
      assertThat(names.getFirst()).isEqualTo("gateway-first");
      assertThat(names).doesNotContain("sidecar-only", "edge-only");
    }
    var rds =
        GatewayGeneratorTest.generate(
            proxy, push, TypeUrls.ROUTE, ResourceNames.of(java.util.Set.of("http.8080")));
    RouteConfiguration rc = (RouteConfiguration) rds.get("http.8080");
    assertThat(rc.getResponseHeadersToAddList())
        .extracting(h -> h.getHeader().getKey())
        .contains("x-gateway");
    var cds = GatewayGeneratorTest.generate(proxy, push, TypeUrls.CLUSTER, ResourceNames.ALL);
    var frontend =
        cds.entrySet().stream()
            .filter(e -> e.getKey().endsWith("|frontend.weather.svc.cluster.local"))
            .map(e -> (Cluster) e.getValue())
            .toList();
    assertThat(frontend).isNotEmpty().allMatch(c -> c.getConnectTimeout().getSeconds() == 2);
  }

  @Test
  void targetRefsSelectTheGatewaysProxiesOnly() throws Exception {
    var push =
        GatewayGeneratorTest.push(
            GatewayGeneratorTest.REGISTRY, GatewayGeneratorTest.weather() + "\n---\n" + FILTERS);
    var edge =
        GatewayGeneratorTest.node(
            "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local",
            "istio-system",
            Map.of(
                "app",
                "istio-ingressgateway",
                "istio",
                "ingressgateway",
                "gateway.networking.k8s.io/gateway-name",
                "edge"),
            "NONE");
    var patches = push.envoyFilterPatches(edge);
    assertThat(patches).extracting(p -> p.source()).contains("istio-system/by-target-ref");
    assertThat(push.envoyFilterPatches(GatewayGeneratorTest.ingress("NONE")))
        .extracting(p -> p.source())
        .doesNotContain("istio-system/by-target-ref");
    var lds = GatewayGeneratorTest.generate(edge, push, TypeUrls.LISTENER, ResourceNames.ALL);
    for (var m : lds.values()) {
      assertThat(filterNames((Listener) m)).contains("edge-only", "gateway-first");
    }
  }
}
