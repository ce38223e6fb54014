package dev.bowline.controlplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.L4Route;
import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which VirtualService serves a host, delegates, per-proxy match filtering, tcp and tls routes,
 * wildcard DestinationRules: Istio's rules from real YAML.
 */
class VirtualServiceIndexTest {
  static final Service FORECAST = IstioConfigInputsTest.FORECAST;

  static String vs(String ns, String name, String hosts, String body) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: %s
        %s
        ---
        """
        .formatted(name, ns, hosts, body.indent(2));
  }

  static String to(String subset) {
    return "http: [{route: [{destination: {host: forecast.weather.svc.cluster.local, subset: "
        + subset
        + "}}]}]";
  }

  static String subsetFor(ConfigInputs in, String ns, Map<String, String> labels) {
    return in.virtualServices()
        .httpRoutes(FORECAST, 8080, IstioConfigInputsTest.proxy(ns, labels))
        .map(r -> r.getFirst().destinations().getFirst().subset())
        .orElse("none");
  }

  @Test
  void exactHostBeatsWildcardThenOwnNamespaceThenFirstByName() {
    ConfigInputs in =
        IstioConfigInputsTest.inputs(
            vs("weather", "a-wild", "['*.weather.svc.cluster.local']", to("wild"))
                + vs("weather", "z-exact", "[forecast]", to("exact"))
                + vs("weather", "b-exact-too", "[forecast]", to("exact-first-by-name"))
                + vs("frontend", "c-frontend", "[forecast.weather.svc.cluster.local]", to("own-ns"))
                + vs(
                    "other",
                    "d-private",
                    "[forecast.weather.svc.cluster.local]\n  exportTo: [.]",
                    to("private")));
    assertThat(subsetFor(in, "weather", Map.of())).isEqualTo("exact-first-by-name");
    assertThat(subsetFor(in, "frontend", Map.of())).isEqualTo("own-ns");
    assertThat(subsetFor(in, "other", Map.of())).isEqualTo("private");
    assertThat(subsetFor(in, "elsewhere", Map.of())).isEqualTo("exact-first-by-name");
  }

  @Test
  void delegateRoutesMergeTheirMatchesIntoTheRoots() {
    ConfigInputs in =
        IstioConfigInputsTest.inputs(
            vs(
                    "weather",
                    "root",
                    "[forecast]",
                    """
                    http:
                    - match: [{uri: {prefix: /api}, headers: {x-tenant: {exact: a}}}]
                      delegate: {name: api, namespace: apis}
                    - match: [{uri: {prefix: /missing}}]
                      delegate: {name: nope}
                    - route: [{destination: {host: forecast, subset: v1}}]
                    """)
                + """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: api, namespace: apis}
                spec:
                  exportTo: [weather]
                  http:
                  - match: [{uri: {prefix: /api/v2}, headers: {x-user: {exact: bob}}}]
                    route: [{destination: {host: forecast.weather.svc.cluster.local, subset: v2}}]
                  - match: [{uri: {prefix: /other}}]
                    route: [{destination: {host: forecast.weather.svc.cluster.local, subset: v3}}]
                  - route: [{destination: {host: backend, subset: v4}}]
                """);
    List<HttpRoute> routes =
        in.virtualServices()
            .httpRoutes(FORECAST, 8080, IstioConfigInputsTest.proxy("weather", Map.of()))
            .orElseThrow();
    // /other conflicts with the root's /api: dropped. The match-less delegate route takes the
    // root's match; its short host resolves in the delegate's namespace.
    assertThat(routes).hasSize(3);
    assertThat(routes.get(0).path()).isEqualTo(new HttpRoute.PathMatch.Prefix("/api/v2"));
    assertThat(routes.get(0).headers())
        .containsExactlyInAnyOrder(
            new HttpRoute.HeaderMatch("x-tenant", "a"), new HttpRoute.HeaderMatch("x-user", "bob"));
    assertThat(routes.get(1).path()).isEqualTo(new HttpRoute.PathMatch.Prefix("/api"));
    assertThat(routes.get(1).destinations().getFirst())
        .isEqualTo(new HttpRoute.Destination("backend.apis.svc.cluster.local", 0, "v4", 100));
    assertThat(routes.get(2).destinations().getFirst().subset()).isEqualTo("v1");
  }

  @Test
  void matchesForOtherSourcesOrGatewaysDoNotApplyToTheProxy() {
    ConfigInputs in =
        IstioConfigInputsTest.inputs(
            vs(
                "weather",
                "by-source",
                "[forecast]\n  gateways: [mesh, weather/ingress]",
                """
                http:
                - match: [{sourceLabels: {app: frontend}}]
                  route: [{destination: {host: forecast, subset: frontend}}]
                - match: [{gateways: [weather/ingress]}]
                  route: [{destination: {host: forecast, subset: gateway}}]
                - match: [{sourceNamespace: batch}]
                  route: [{destination: {host: forecast, subset: batch}}]
                - route: [{destination: {host: forecast, subset: rest}}]
                """));
    assertThat(subsetFor(in, "weather", Map.of("app", "frontend"))).isEqualTo("frontend");
    assertThat(subsetFor(in, "weather", Map.of("app", "other"))).isEqualTo("rest");
    assertThat(subsetFor(in, "batch", Map.of())).isEqualTo("batch");
  }

  @Test
  void tcpAndTlsRoutes() {
    ConfigInputs in =
        IstioConfigInputsTest.inputs(
            vs(
                "weather",
                "l4",
                "[forecast]",
                """
                tcp:
                - match: [{port: 9000, sourceLabels: {app: canary}}]
                  route: [{destination: {host: forecast, subset: canary}}]
                - match: [{port: 9000}]
                  route:
                  - {destination: {host: forecast, subset: v1}, weight: 80}
                  - {destination: {host: forecast, subset: v2}, weight: 20}
                tls:
                - match: [{port: 443, sniHosts: [forecast, a.example.com]}]
                  route: [{destination: {host: forecast, subset: tls}}]
                """));
    L4Route tcp =
        in.virtualServices()
            .tcpRoute(FORECAST, 9000, IstioConfigInputsTest.proxy("weather", Map.of()))
            .orElseThrow();
    assertThat(tcp.destinations())
        .extracting(HttpRoute.Destination::subset, HttpRoute.Destination::weight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("v1", 80),
            org.assertj.core.groups.Tuple.tuple("v2", 20));
    assertThat(
            in.virtualServices()
                .tcpRoute(
                    FORECAST, 9000, IstioConfigInputsTest.proxy("weather", Map.of("app", "canary")))
                .orElseThrow()
                .destinations()
                .getFirst()
                .subset())
        .isEqualTo("canary");
    assertThat(
            in.virtualServices()
                .tcpRoute(FORECAST, 9001, IstioConfigInputsTest.proxy("weather", Map.of())))
        .isEmpty();
    assertThat(
            in.virtualServices()
                .tlsRoutes(FORECAST, 443, IstioConfigInputsTest.proxy("weather", Map.of())))
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.sniHosts())
                    .containsExactly("forecast.weather.svc.cluster.local", "a.example.com"));
  }

  @Test
  void wildcardDestinationRuleAppliesWithoutAnExactOne() {
    ConfigInputs in =
        IstioConfigInputsTest.inputs(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: all, namespace: weather}
            spec:
              host: "*.svc.cluster.local"
              trafficPolicy: {loadBalancer: {simple: RANDOM}}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ns, namespace: weather}
            spec:
              host: "*.weather.svc.cluster.local"
              trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
            """);
    assertThat(
            in.destinationRules()
                .trafficPolicy(FORECAST, IstioConfigInputsTest.proxy("weather", Map.of()))
                .orElseThrow()
                .loadBalancer())
        .isEqualTo(dev.bowline.controlplane.model.TrafficPolicy.LoadBalancer.LEAST_REQUEST);
  }
}
