package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * DestinationRule locality load balancing, warm-up and connection-pool options through CDS and a
 * proxy's EDS, in the shapes istiod emits: priorities relative to the proxy's locality only with
 * outlier detection, distribute weights, failoverPriority labels.
 */
class LocalityLbTest {
  static final String CLUSTER = "outbound|8080||forecast.weather.svc.cluster.local";

  static final Proxy FRONTEND =
      Proxy.builder(
              "sidecar~10.0.0.9~fe.weather~weather.svc.cluster.local",
              NodeType.SIDECAR,
              "10.0.0.9",
              "fe",
              "weather",
              "weather.svc.cluster.local")
          .labels(Map.of("app", "fe", "tier", "gold"))
          .clusterId("Kubernetes")
          .istioVersion("1.24")
          .build();

  static Workload workload(String name, String ip, String locality, Map<String, String> labels) {
    return new Workload(
        "weather",
        name,
        labels,
        ip,
        Map.of(),
        "default",
        Locality.parse(locality),
        "",
        HealthStatus.HEALTHY);
  }

  static PushContext push(String trafficPolicy) {
    return push(trafficPolicy, dev.bowline.api.mesh.MeshConfig.defaults());
  }

  static PushContext push(String trafficPolicy, dev.bowline.api.mesh.MeshConfig mesh) {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.putService(
        new LocalService(
            "weather",
            "forecast",
            List.of(new ServicePort("http", 8080, Protocol.HTTP, 8080)),
            Map.of("app", "forecast"),
            Map.of()));
    registry.putService(
        new LocalService(
            "weather",
            "fe",
            List.of(new ServicePort("http", 80, Protocol.HTTP, 8000)),
            Map.of("app", "fe"),
            Map.of()));
    registry.putWorkload(workload("fe", "10.0.0.9", "r1/z1/s1", Map.of("app", "fe")));
    registry.putWorkload(
        workload("f1", "10.0.0.1", "r1/z1/s1", Map.of("app", "forecast", "tier", "gold")));
    registry.putWorkload(
        workload("f2", "10.0.0.2", "r1/z2/s2", Map.of("app", "forecast", "tier", "silver")));
    registry.putWorkload(
        workload("f3", "10.0.0.3", "r2/z3/s3", Map.of("app", "forecast", "tier", "gold")));
    registry.putWorkload(
        workload("f4", "10.0.0.4", "r3/z4/s4", Map.of("app", "forecast", "tier", "gold")));
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    if (!trafficPolicy.isEmpty()) {
      String dr =
          """
          apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: forecast, namespace: weather}
          spec:
            host: forecast
            trafficPolicy:
          %s"""
              .formatted(trafficPolicy.indent(4));
      Decoded d = new ResourceCodec().decode("dr.yaml", dr);
      assertThat(d.rejected()).isEmpty();
      d.resources().forEach(r -> m.put(r.key(), r));
    }
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"),
        mesh);
  }

  @Test
  void meshConfigLocalityLbSettingIsTheDefaultAndADestinationRuleReplacesIt() {
    var decoded =
        new ResourceCodec()
            .decodeMeshConfig(
                "mesh.yaml",
                """
                localityLbSetting:
                  distribute:
                  - from: r1/z1/*
                    to: {"r1/*": 80, "r2/z3/*": 20}
                """);
    assertThat(decoded.errors()).isEmpty();
    var mesh = decoded.config();
    // No DestinationRule setting: the mesh's distribute applies.
    PushContext push = push("", mesh);
    Map<String, Integer> weights = new TreeMap<>();
    for (var g : eds(push).getEndpointsList()) {
      weights.put(
          g.getLocality().getRegion() + "/" + g.getLocality().getZone(),
          g.getLbEndpointsCount() == 0 ? 0 : g.getLoadBalancingWeight().getValue());
    }
    assertThat(weights)
        .containsExactlyEntriesOf(
            new TreeMap<>(Map.of("r1/z1", 40, "r1/z2", 40, "r2/z3", 20, "r3/z4", 0)));
    assertThat(cds(push).getCommonLbConfig().hasLocalityWeightedLbConfig()).isTrue();
    // The rule's own setting wins: disabled, so one priority and no locality weights.
    PushContext ruled =
        push(OUTLIER + "loadBalancer:\n  localityLbSetting: {enabled: false}\n", mesh);
    assertThat(priorities(eds(ruled)).values()).containsOnly(0);
    assertThat(cds(ruled).getCommonLbConfig().hasLocalityWeightedLbConfig()).isFalse();
    // Mesh setting disabled: no failover even with outlier detection.
    var off =
        new ResourceCodec()
            .decodeMeshConfig("mesh.yaml", "localityLbSetting: {enabled: false}\n")
            .config();
    assertThat(priorities(eds(push(OUTLIER, off))).values()).containsOnly(0);
    assertThat(priorities(eds(push(OUTLIER))).values()).contains(0, 1);
  }

  static ClusterLoadAssignment eds(PushContext push) {
    return (ClusterLoadAssignment)
        new EndpointGenerator()
            .generate(FRONTEND, push, ResourceNames.of(Set.of(CLUSTER)))
            .get(CLUSTER);
  }

  static Cluster cds(PushContext push) {
    return (Cluster)
        new ClusterGenerator().generate(FRONTEND, push, ResourceNames.ALL).get(CLUSTER);
  }

  /** Priority of each endpoint address. */
  static Map<String, Integer> priorities(ClusterLoadAssignment cla) {
    Map<String, Integer> out = new TreeMap<>();
    for (var g : cla.getEndpointsList()) {
      for (var e : g.getLbEndpointsList()) {
        out.put(e.getEndpoint().getAddress().getSocketAddress().getAddress(), g.getPriority());
      }
    }
    return out;
  }

  static final String OUTLIER = "outlierDetection: {consecutive5xxErrors: 2, interval: 1s}\n";

  @Test
  void withOutlierDetectionEndpointsGetPrioritiesByProximity() {
    assertThat(priorities(eds(push(OUTLIER))))
        .containsExactlyEntriesOf(
            new TreeMap<>(Map.of("10.0.0.1", 0, "10.0.0.2", 1, "10.0.0.3", 2, "10.0.0.4", 2)));
  }

  @Test
  void withoutOutlierDetectionThereIsNoFailover() {
    assertThat(priorities(eds(push(""))))
        .containsOnly(
            Map.entry("10.0.0.1", 0),
            Map.entry("10.0.0.2", 0),
            Map.entry("10.0.0.3", 0),
            Map.entry("10.0.0.4", 0));
    assertThat(priorities(eds(push("connectionPool: {tcp: {maxConnections: 5}}\n"))).values())
        .containsOnly(0);
  }

  @Test
  void failoverNamesTheNextRegionAndOthersComeLast() {
    String p =
        OUTLIER + "loadBalancer:\n  localityLbSetting:\n    failover: [{from: r1, to: r3}]\n";
    // same sub-zone 0, same region 1, the failover region 2 (istiod's 3), others 3 (istiod's 4)
    assertThat(priorities(eds(push(p))))
        .containsExactlyEntriesOf(
            new TreeMap<>(Map.of("10.0.0.1", 0, "10.0.0.2", 1, "10.0.0.3", 3, "10.0.0.4", 2)));
  }

  @Test
  void disabledLocalityLbLeavesOnePriority() {
    String p = OUTLIER + "loadBalancer:\n  localityLbSetting: {enabled: false}\n";
    assertThat(priorities(eds(push(p))).values()).containsOnly(0);
  }

  @Test
  void failoverPriorityByLabels() {
    String p =
        OUTLIER
            + "loadBalancer:\n  localityLbSetting:\n    failoverPriority: [tier, topology.kubernetes.io/region]\n";
    // tier and region match: 0; tier matches, region not: 1; tier differs: 2 -> compacted
    assertThat(priorities(eds(push(p))))
        .containsExactlyEntriesOf(
            new TreeMap<>(Map.of("10.0.0.1", 0, "10.0.0.2", 2, "10.0.0.3", 1, "10.0.0.4", 1)));
  }

  @Test
  void distributeSetsLocalityWeightsAndTheClusterTurnsLocalityWeighted() {
    String p =
        """
        loadBalancer:
          localityLbSetting:
            distribute:
            - from: r1/z1/*
              to: {"r1/*": 80, "r2/z3/*": 20}
        """;
    PushContext push = push(p);
    ClusterLoadAssignment cla = eds(push);
    Map<String, Integer> weights = new TreeMap<>();
    for (var g : cla.getEndpointsList()) {
      weights.put(
          g.getLocality().getRegion() + "/" + g.getLocality().getZone(),
          g.getLbEndpointsCount() == 0 ? 0 : g.getLoadBalancingWeight().getValue());
    }
    // r1 has two localities of weight 1 sharing 80; r2/z3 takes 20; r3 matches nothing
    assertThat(weights)
        .containsExactlyEntriesOf(
            new TreeMap<>(Map.of("r1/z1", 40, "r1/z2", 40, "r2/z3", 20, "r3/z4", 0)));
    assertThat(cds(push).getCommonLbConfig().hasLocalityWeightedLbConfig()).isTrue();
    assertThat(priorities(cla).values()).containsOnly(0);
  }

  @Test
  void warmupAndConnectionPoolOptionsAsIstiodEmitsThem() throws Exception {
    String p =
        """
        loadBalancer: {simple: LEAST_REQUEST, warmupDurationSecs: 30s}
        connectionPool:
          tcp:
            maxConnections: 3
            tcpKeepalive: {probes: 4, time: 600s, interval: 60s}
          http:
            http1MaxPendingRequests: 1
            maxRequestsPerConnection: 10
            idleTimeout: 45s
            maxRetries: 5
            h2UpgradePolicy: UPGRADE
        """;
    Cluster c = cds(push(p));
    assertThat(c.getLeastRequestLbConfig().getSlowStartConfig().getSlowStartWindow())
        .isEqualTo(Durations.fromSeconds(30));
    var t = c.getCircuitBreakers().getThresholds(0);
    assertThat(t.getMaxConnections().getValue()).isEqualTo(3);
    assertThat(t.getMaxPendingRequests().getValue()).isEqualTo(1);
    assertThat(t.getMaxRetries().getValue()).isEqualTo(5);
    var ka = c.getUpstreamConnectionOptions().getTcpKeepalive();
    assertThat(ka.getKeepaliveProbes().getValue()).isEqualTo(4);
    assertThat(ka.getKeepaliveTime().getValue()).isEqualTo(600);
    assertThat(ka.getKeepaliveInterval().getValue()).isEqualTo(60);
    HttpProtocolOptions o =
        c.getTypedExtensionProtocolOptionsOrThrow(ClusterPolicies.HTTP_OPTIONS)
            .unpack(HttpProtocolOptions.class);
    assertThat(o.getCommonHttpProtocolOptions().getIdleTimeout())
        .isEqualTo(Durations.fromSeconds(45));
    assertThat(o.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue())
        .isEqualTo(10);
    assertThat(o.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
  }

  @Test
  void everyOutboundClusterCarriesIstiodsDefaultCircuitBreakers() {
    var t = cds(push("")).getCircuitBreakers().getThresholds(0);
    for (int v :
        List.of(
            t.getMaxConnections().getValue(),
            t.getMaxPendingRequests().getValue(),
            t.getMaxRequests().getValue(),
            t.getMaxRetries().getValue())) {
      assertThat(Integer.toUnsignedLong(v)).isEqualTo(4294967295L);
    }
    assertThat(t.getTrackRemaining()).isTrue();
  }
}
