package dev.bowline.controlplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Service;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Istio's indexing rules for VirtualService, DestinationRule and Sidecar, from real YAML. */
class IstioConfigInputsTest {
  static final Service FORECAST =
      new Service("forecast.weather.svc.cluster.local", "weather", "forecast", List.of(), Map.of());

  static ConfigInputs inputs(String yaml) {
    Decoded d = new ResourceCodec().decode("test.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    Map<dev.bowline.api.ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    return IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system");
  }

  static Proxy proxy(String ns, Map<String, String> labels) {
    return Proxy.builder(
            "sidecar~127.0.0.9~app." + ns + "~" + ns + ".svc.cluster.local",
            NodeType.SIDECAR,
            "127.0.0.9",
            "app",
            ns,
            ns + ".svc.cluster.local")
        .labels(labels)
        .clusterId("Kubernetes")
        .istioVersion("1.24")
        .build();
  }

  @Test
  void virtualServiceShortHostsResolveInItsNamespaceAndExportToLimitsWhoSeesIt() {
    ConfigInputs in =
        inputs(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: forecast, namespace: weather}
            spec:
              hosts: [forecast]
              exportTo: ["."]
              http:
              - match: [{uri: {prefix: /v2}, headers: {x-user: {regex: "ad.*"}}}]
                route: [{destination: {host: forecast, subset: v2}}]
                timeout: 3s
                retries: {attempts: 4, perTryTimeout: 1s, retryOn: "5xx,reset"}
              - route:
                - {destination: {host: forecast, subset: v1}, weight: 90}
                - {destination: {host: forecast, subset: v2}, weight: 10}
                - {destination: {host: forecast, subset: v3}, weight: 0}
            """);
    List<HttpRoute> routes =
        in.virtualServices().httpRoutes(FORECAST, 8080, proxy("weather", Map.of())).orElseThrow();
    assertThat(routes).hasSize(2);
    HttpRoute first = routes.getFirst();
    assertThat(first.path()).isEqualTo(new HttpRoute.PathMatch.Prefix("/v2"));
    assertThat(first.headers())
        .containsExactly(new HttpRoute.HeaderMatch("x-user", HttpRoute.MatchKind.REGEX, "ad.*"));
    assertThat(first.destinations())
        .containsExactly(
            new HttpRoute.Destination("forecast.weather.svc.cluster.local", 0, "v2", 100));
    assertThat(first.policy().timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(first.policy().retry())
        .isEqualTo(new HttpRoute.Retry(4, Duration.ofSeconds(1), "5xx,reset"));
    assertThat(routes.get(1).destinations())
        .extracting(HttpRoute.Destination::subset, HttpRoute.Destination::weight)
        .as("zero-weight destinations are dropped")
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("v1", 90),
            org.assertj.core.groups.Tuple.tuple("v2", 10));
    assertThat(in.virtualServices().httpRoutes(FORECAST, 8080, proxy("frontend", Map.of())))
        .as("exportTo: . hides it from other namespaces")
        .isEmpty();
  }

  @Test
  void aVirtualServiceInTheProxysNamespaceWinsAndGatewayOnlyOnesAreIgnored() {
    ConfigInputs in =
        inputs(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: a-forecast, namespace: weather}
            spec:
              hosts: [forecast]
              http: [{route: [{destination: {host: forecast, subset: v1}}]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: forecast-override, namespace: frontend}
            spec:
              hosts: [forecast.weather.svc.cluster.local]
              http: [{route: [{destination: {host: forecast.weather.svc.cluster.local, subset: v2}}]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: gw, namespace: aaa}
            spec:
              hosts: ["*.weather.svc.cluster.local"]
              gateways: [ingress]
              http: [{route: [{destination: {host: other.aaa.svc.cluster.local}}]}]
            """);
    assertThat(subsetFor(in, proxy("frontend", Map.of()))).isEqualTo("v2");
    assertThat(subsetFor(in, proxy("weather", Map.of()))).isEqualTo("v1");
    assertThat(subsetFor(in, proxy("elsewhere", Map.of())))
        .as("first by name, then namespace, among the rest (istiod's order after creation time)")
        .isEqualTo("v1");
  }

  static String subsetFor(ConfigInputs in, Proxy p) {
    return in.virtualServices()
        .httpRoutes(FORECAST, 8080, p)
        .orElseThrow()
        .getFirst()
        .destinations()
        .getFirst()
        .subset();
  }

  @Test
  void destinationRulesTakeTheProxyNamespaceThenTheServiceNamespaceThenTheRootAndMergeSubsets() {
    String yaml =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: root, namespace: istio-system}
        spec:
          host: forecast.weather.svc.cluster.local
          trafficPolicy: {loadBalancer: {simple: RANDOM}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: a, namespace: weather}
        spec:
          host: forecast
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
          subsets: [{name: v1, labels: {version: v1}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: b, namespace: weather}
        spec:
          host: forecast
          subsets:
          - {name: v1, labels: {version: other}}
          - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: mine, namespace: frontend}
        spec:
          host: forecast.weather.svc.cluster.local
          exportTo: ["."]
          trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}
        """;
    ConfigInputs in = inputs(yaml);
    TrafficPolicy weather =
        in.destinationRules().trafficPolicy(FORECAST, proxy("weather", Map.of())).orElseThrow();
    assertThat(weather.loadBalancer()).isEqualTo(TrafficPolicy.LoadBalancer.LEAST_REQUEST);
    assertThat(weather.subsets())
        .containsExactly(
            new TrafficPolicy.Subset(
                "v1", Map.of("version", "v1"), TrafficPolicy.LoadBalancer.LEAST_REQUEST),
            new TrafficPolicy.Subset(
                "v2", Map.of("version", "v2"), TrafficPolicy.LoadBalancer.ROUND_ROBIN));
    assertThat(
            in.destinationRules()
                .trafficPolicy(FORECAST, proxy("frontend", Map.of()))
                .orElseThrow()
                .loadBalancer())
        .as("the proxy's own namespace first")
        .isEqualTo(TrafficPolicy.LoadBalancer.PASSTHROUGH);
    ConfigInputs rootOnly = inputs(yaml.substring(0, yaml.indexOf("---")));
    assertThat(
            rootOnly
                .destinationRules()
                .trafficPolicy(FORECAST, proxy("frontend", Map.of()))
                .orElseThrow()
                .loadBalancer())
        .isEqualTo(TrafficPolicy.LoadBalancer.RANDOM);
  }

  @Test
  void sidecarsSelectByWorkloadLabelsThenNamespaceThenRoot() {
    ConfigInputs in =
        inputs(
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: istio-system}
            spec:
              egress: [{hosts: ["./*", "istio-system/*"]}]
              outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            ---
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: weather}
            spec:
              egress: [{hosts: ["*/*"]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: frontend, namespace: weather}
            spec:
              workloadSelector: {labels: {app: frontend}}
              egress: [{hosts: ["weather/*"]}]
            """);
    SidecarScope fe = in.sidecars().scopeFor(proxy("weather", Map.of("app", "frontend")));
    assertThat(fe.egressHosts()).containsExactly("weather/*");
    assertThat(fe.origin()).isEqualTo("Sidecar weather/frontend");
    assertThat(in.sidecars().scopeFor(proxy("weather", Map.of("app", "forecast"))).origin())
        .isEqualTo("Sidecar weather/default");
    SidecarScope other = in.sidecars().scopeFor(proxy("data", Map.of()));
    assertThat(other.origin()).isEqualTo("Sidecar istio-system/default");
    assertThat(other.outboundPolicy()).isEqualTo(SidecarScope.OutboundTrafficPolicy.REGISTRY_ONLY);
    assertThat(inputs("").sidecars().scopeFor(proxy("data", Map.of())))
        .isEqualTo(SidecarScope.DEFAULT);
  }
}
