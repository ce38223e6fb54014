package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** DestinationRule traffic policy from YAML through CDS (and the hash key through RDS). */
class ClusterPoliciesTest {
  static final String DR =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: forecast, namespace: weather}
      spec:
        host: forecast
        trafficPolicy:
          loadBalancer:
            consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}
          connectionPool:
            tcp: {maxConnections: 10, connectTimeout: 250ms}
            http: {http1MaxPendingRequests: 5, maxRetries: 2}
          outlierDetection:
            consecutive5xxErrors: 3
            interval: 5s
            baseEjectionTime: 30s
            maxEjectionPercent: 50
            minHealthPercent: 20
          portLevelSettings:
          - port: {number: 9090}
            loadBalancer: {simple: LEAST_REQUEST}
            connectionPool: {http: {http2MaxRequests: 7}}
        subsets:
        - name: v1
          labels: {version: v1}
        - name: v2
          labels: {version: v2}
          trafficPolicy:
            loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}
      """;

  static PushContext push() {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(
                new ServicePort("http", 8080, Protocol.HTTP, 8080),
                new ServicePort("admin", 9090, Protocol.HTTP, 9090)),
            Map.of(),
            Map.of()));
    Decoded d = new ResourceCodec().decode("dr.yaml", DR);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  @Test
  void trafficPolicyBecomesRingHashCircuitBreakersAndOutlierDetection() {
    var clusters = new ClusterGenerator().generate(HttpRoutesTest.PROXY, push(), ResourceNames.ALL);
    Cluster c = (Cluster) clusters.get("outbound|8080||forecast.weather.svc.cluster.local");
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RING_HASH);
    assertThat(c.getRingHashLbConfig().getMinimumRingSize().getValue()).isEqualTo(2048);
    var t = c.getCircuitBreakers().getThresholds(0);
    assertThat(t.getMaxConnections().getValue()).isEqualTo(10);
    assertThat(t.getMaxPendingRequests().getValue()).isEqualTo(5);
    assertThat(t.getMaxRetries().getValue()).isEqualTo(2);
    assertThat(Integer.toUnsignedLong(t.getMaxRequests().getValue()))
        .as("unset limits at Envoy's maximum, as istiod")
        .isEqualTo(4294967295L);
    assertThat(c.getConnectTimeout()).isEqualTo(Durations.fromMillis(250));
    var od = c.getOutlierDetection();
    assertThat(od.getConsecutive5Xx().getValue()).isEqualTo(3);
    assertThat(od.getEnforcingConsecutive5Xx().getValue()).isEqualTo(100);
    assertThat(od.getEnforcingConsecutiveGatewayFailure().getValue()).isZero();
    assertThat(od.getInterval()).isEqualTo(Durations.fromSeconds(5));
    assertThat(od.getBaseEjectionTime()).isEqualTo(Durations.fromSeconds(30));
    assertThat(od.getMaxEjectionPercent().getValue()).isEqualTo(50);
    assertThat(c.getCommonLbConfig().getHealthyPanicThreshold().getValue()).isEqualTo(20);

    Cluster v1 = (Cluster) clusters.get("outbound|8080|v1|forecast.weather.svc.cluster.local");
    assertThat(v1.getLbPolicy())
        .as("a subset inherits the rule's policy")
        .isEqualTo(c.getLbPolicy());
    assertThat(v1.getCircuitBreakers()).isEqualTo(c.getCircuitBreakers());
    Cluster v2 = (Cluster) clusters.get("outbound|8080|v2|forecast.weather.svc.cluster.local");
    assertThat(v2.getLbPolicy()).isEqualTo(Cluster.LbPolicy.MAGLEV);
    assertThat(v2.getMaglevLbConfig().getTableSize().getValue()).isEqualTo(65537);
    assertThat(v2.getOutlierDetection()).as("what it does not set, it inherits").isEqualTo(od);
  }

  @Test
  void portLevelSettingsReplaceThePartsTheySetForTheirPortOnly() {
    var clusters = new ClusterGenerator().generate(HttpRoutesTest.PROXY, push(), ResourceNames.ALL);
    Cluster admin = (Cluster) clusters.get("outbound|9090||forecast.weather.svc.cluster.local");
    assertThat(admin.getLbPolicy())
        .as("the port's loadBalancer replaces the consistent hash")
        .isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(admin.getCircuitBreakers().getThresholds(0).getMaxRequests().getValue())
        .isEqualTo(7);
    assertThat(admin.getOutlierDetection().getConsecutive5Xx().getValue())
        .as("what the port does not set stays the rule's")
        .isEqualTo(3);
    Cluster v1Admin = (Cluster) clusters.get("outbound|9090|v1|forecast.weather.svc.cluster.local");
    assertThat(v1Admin.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    var routes =
        new SidecarRouteGenerator()
            .generate(HttpRoutesTest.PROXY, push(), ResourceNames.of(Set.of("9090")));
    RouteConfiguration rc = (RouteConfiguration) routes.get("9090");
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getHashPolicyList())
        .as("no consistent hash on that port, so no hash key")
        .isEmpty();
  }

  @Test
  void theHashKeyGoesOnTheRoute() {
    var routes =
        new SidecarRouteGenerator()
            .generate(HttpRoutesTest.PROXY, push(), ResourceNames.of(Set.of("8080")));
    RouteConfiguration rc = (RouteConfiguration) routes.get("8080");
    var hash = rc.getVirtualHosts(0).getRoutes(0).getRoute().getHashPolicy(0);
    assertThat(hash.getHeader().getHeaderName()).isEqualTo("x-user");
  }
}
