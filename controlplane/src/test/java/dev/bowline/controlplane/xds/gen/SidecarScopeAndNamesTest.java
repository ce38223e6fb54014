package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SidecarScopeAndNamesTest {
  static Service service(String name, String ns) {
    return new Service(name + "." + ns + ".svc.cluster.local", ns, name, List.of(), Map.of());
  }

  @Test
  void egressHostsFollowIstioNamespaceHostPatterns() {
    Service forecast = service("forecast", "weather");
    Service db = service("db", "data");
    assertThat(SidecarScope.DEFAULT.isVisible(db, "weather")).isTrue();
    SidecarScope own =
        new SidecarScope(List.of("./*"), SidecarScope.OutboundTrafficPolicy.ALLOW_ANY, "t");
    assertThat(own.isVisible(forecast, "weather")).isTrue();
    assertThat(own.isVisible(db, "weather")).isFalse();
    SidecarScope named =
        new SidecarScope(
            List.of("*/db.data.svc.cluster.local", "weather/*"),
            SidecarScope.OutboundTrafficPolicy.ALLOW_ANY,
            "t");
    assertThat(named.isVisible(db, "other")).isTrue();
    assertThat(named.isVisible(forecast, "other")).isTrue();
    assertThat(named.isVisible(service("cache", "data"), "other")).isFalse();
    SidecarScope none =
        new SidecarScope(List.of("~/*"), SidecarScope.OutboundTrafficPolicy.REGISTRY_ONLY, "t");
    assertThat(none.isVisible(forecast, "weather")).isFalse();
  }

  @Test
  void clusterNamesRoundTrip() {
    assertThat(ClusterName.parse("outbound|8080|v1|forecast.weather.svc.cluster.local"))
        .hasValue(new ClusterName("outbound", 8080, "v1", "forecast.weather.svc.cluster.local"));
    assertThat(ClusterName.parse("inbound|9090||"))
        .map(ClusterName::toString)
        .hasValue("inbound|9090||");
    assertThat(ClusterName.parse("BlackHoleCluster")).isEmpty();
    assertThat(ClusterName.parse("outbound|x||h")).isEmpty();
    assertThat(ClusterName.parse("outbound|1|||h")).isEmpty();
    assertThat(ClusterName.parse("sideways|1||h")).isEmpty();
  }

  @Test
  void registryOnlyBlocksUnknownTrafficAndShortNamesDependOnTheNamespace() throws Exception {
    PushContext base = GoldenTest.push();
    PushContext registryOnly =
        new PushContext(
            2,
            base.registry(),
            new ConfigInputs(
                (s, p, proxy) -> Optional.empty(),
                (s, proxy) -> Optional.empty(),
                proxy ->
                    new SidecarScope(
                        List.of("*/*"), SidecarScope.OutboundTrafficPolicy.REGISTRY_ONLY, "test")));
    Proxy frontend = GoldenTest.frontend("REDIRECT");
    Generators g = new Generators();
    Listener outbound =
        (Listener)
            g.forType(frontend, TypeUrls.LISTENER)
                .orElseThrow()
                .generate(frontend, registryOnly, ResourceNames.ALL)
                .get("virtualOutbound");
    assertThat(
            outbound
                .getFilterChains(0)
                .getFilters(0)
                .getTypedConfig()
                .unpack(TcpProxy.class)
                .getCluster())
        .isEqualTo("BlackHoleCluster");
    RouteConfiguration rc =
        (RouteConfiguration)
            g.forType(frontend, TypeUrls.ROUTE)
                .orElseThrow()
                .generate(frontend, registryOnly, ResourceNames.of(java.util.Set.of("3000")))
                .get("3000");
    assertThat(rc.getVirtualHostsList().getLast().getName()).isEqualTo("block_all");
    assertThat(rc.getVirtualHostsList().getLast().getRoutes(0).getDirectResponse().getStatus())
        .isEqualTo(502);

    Proxy elsewhere =
        Proxy.builder(
                "sidecar~127.0.0.99~x.other~other.svc.cluster.local",
                frontend.type(),
                "127.0.0.99",
                "x",
                "other",
                "other.svc.cluster.local")
            .build();
    Service forecast = base.registry().service("forecast.weather.svc.cluster.local").orElseThrow();
    assertThat(SidecarRouteGenerator.domains(forecast, 3000, frontend, "cluster.local"))
        .contains("forecast", "forecast:3000");
    assertThat(SidecarRouteGenerator.domains(forecast, 3000, elsewhere, "cluster.local"))
        .doesNotContain("forecast", "forecast:3000")
        .contains("forecast.weather", "forecast.weather.svc:3000");
  }
}
