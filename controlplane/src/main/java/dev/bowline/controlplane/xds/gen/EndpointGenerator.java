package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bowline.controlplane.model.MtlsMode;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * EDS: one {@code ClusterLoadAssignment} per requested outbound cluster, endpoints grouped by
 * locality with a locality weight equal to its endpoint count (always > 0, as grpc-java requires),
 * each endpoint with its health; a subset cluster keeps only endpoints carrying the subset's
 * labels.
 */
final class EndpointGenerator implements XdsGenerator {
  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    Locality locality = locality(proxy, push);
    if (names.wildcard()) {
      for (Service s : push.visibleServices(proxy)) {
        if (!s.usesEds()) {
          continue; // DNS and passthrough clusters carry their endpoints themselves
        }
        for (var p : s.ports()) {
          String name = ClusterName.outbound(p.port(), "", s.hostname());
          out.put(
              name,
              forProxy(
                  proxy,
                  locality,
                  assignment(
                      name, push.registry().endpoints(s.hostname(), p.port()), Map.of(), push),
                  push.registry().endpoints(s.hostname(), p.port()),
                  push.withMeshDefaults(push.trafficPolicy(s, proxy).settings(p.port()))));
        }
      }
    }
    for (String name : names.names()) {
      generateOne(proxy, locality, push, name).ifPresent(cla -> out.put(name, cla));
    }
    return out;
  }

  private static Optional<ClusterLoadAssignment> generateOne(
      Proxy proxy, Locality locality, PushContext push, String name) {
    Optional<ClusterName> parsed =
        ClusterName.parse(name).filter(c -> c.direction().equals("outbound"));
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    ClusterName cn = parsed.get();
    Optional<Service> service = push.registry().service(cn.host());
    if (service.isEmpty() || service.get().port(cn.port()).isEmpty() || !service.get().usesEds()) {
      return Optional.empty();
    }
    Map<String, String> selector = Map.of();
    TrafficPolicy policy = push.trafficPolicy(service.get(), proxy);
    TrafficPolicy.ClusterSettings settings = policy.settings(cn.port());
    if (!cn.subset().isEmpty()) {
      Optional<TrafficPolicy.Subset> subset =
          policy.subsets().stream().filter(s -> s.name().equals(cn.subset())).findFirst();
      if (subset.isEmpty()) {
        return Optional.empty();
      }
      selector = subset.get().labels();
      settings = subset.get().settings(cn.port());
    }
    List<Endpoint> endpoints = push.registry().endpoints(cn.host(), cn.port());
    return Optional.of(
        forProxy(
            proxy,
            locality,
            assignment(name, endpoints, selector, push),
            endpoints,
            push.withMeshDefaults(settings)));
  }

  /**
   * The assignment as this proxy sees it: locality weights or failover priorities relative to the
   * proxy's locality (that of its own service instances, as istiod falls back to).
   */
  private static ClusterLoadAssignment forProxy(
      Proxy proxy,
      Locality locality,
      ClusterLoadAssignment cla,
      List<Endpoint> endpoints,
      TrafficPolicy.ClusterSettings settings) {
    return LocalityLoadBalancing.apply(cla, endpoints, locality, proxy.labels(), settings);
  }

  /** The proxy's locality: that of its own service instances (istiod's fallback), if any. */
  private static Locality locality(Proxy proxy, PushContext push) {
    return push.serviceInstances(proxy).stream()
        .map(Endpoint::locality)
        .filter(l -> !l.equals(Locality.NONE))
        .findFirst()
        .orElse(Locality.NONE);
  }

  /**
   * The endpoints of cluster {@code name}; those whose workload runs a sidecar ({@code
   * security.istio.io/tlsMode: istio}) and does not DISABLE mTLS carry {@code
   * envoy.transport_socket_match: {tlsMode: istio}}, which auto mTLS keys on (istiod's
   * EndpointBuilder).
   */
  static ClusterLoadAssignment assignment(
      String name, List<Endpoint> endpoints, Map<String, String> selector, PushContext push) {
    TreeMap<String, LocalityLbEndpoints.Builder> byLocality = new TreeMap<>();
    for (Endpoint e : endpoints) {
      if (!e.labels().entrySet().containsAll(selector.entrySet())) {
        continue;
      }
      Locality l = e.locality();
      LocalityLbEndpoints.Builder group =
          byLocality.computeIfAbsent(
              l.toString(),
              k ->
                  LocalityLbEndpoints.newBuilder()
                      .setLocality(
                          io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
                              .setRegion(l.region())
                              .setZone(l.zone())
                              .setSubZone(l.subZone())));
      LbEndpoint.Builder lbe = LbEndpoint.newBuilder();
      if (Security.istioTlsMode(e) && push.mtlsMode(e) != MtlsMode.DISABLE) {
        lbe.setMetadata(Security.istioEndpointMetadata());
      }
      group.addLbEndpoints(
          lbe.setEndpoint(
                  io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                      .setAddress(ClusterGenerator.socket(e.address(), e.port())))
              .setHealthStatus(
                  switch (e.health()) {
                    case HEALTHY -> HealthStatus.HEALTHY;
                    case UNHEALTHY -> HealthStatus.UNHEALTHY;
                    case DRAINING -> HealthStatus.DRAINING;
                  })
              .setLoadBalancingWeight(UInt32Value.of(e.weight())));
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    for (LocalityLbEndpoints.Builder group : byLocality.values()) {
      // istiod: a locality weighs the sum of its endpoints' weights (> 0, as grpc-java needs).
      int sum = 0;
      for (LbEndpoint e : group.getLbEndpointsList()) {
        sum += e.getLoadBalancingWeight().getValue();
      }
      cla.addEndpoints(group.setLoadBalancingWeight(UInt32Value.of(sum)));
    }
    return cla.build();
  }
}
