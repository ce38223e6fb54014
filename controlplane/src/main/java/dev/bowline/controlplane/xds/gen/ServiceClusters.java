package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Duration;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.List;
import java.util.Map;

/**
 * The outbound cluster of one service port (and subset) by the service's resolution, as istiod's
 * cluster builder: {@code EDS} for registry endpoints; for ServiceEntry {@code DNS} a {@code
 * STRICT_DNS} cluster and for {@code DNS_ROUND_ROBIN} a {@code LOGICAL_DNS} one, both with their
 * endpoints inline (subset labels applied; LOGICAL_DNS takes the first, as Envoy allows one), IPv4
 * lookups, the DNS TTL respected and MeshConfig's {@code dnsRefreshRate} (60 s by default); for
 * {@code NONE} an {@code ORIGINAL_DST} cluster (the connection's own destination). DestinationRule
 * settings apply to all.
 */
final class ServiceClusters {
  private static final Duration DEFAULT_DNS_REFRESH = Duration.newBuilder().setSeconds(60).build();

  private ServiceClusters() {}

  static Cluster outbound(
      Proxy proxy,
      PushContext push,
      Service service,
      int port,
      String name,
      Map<String, String> subsetLabels,
      TrafficPolicy.LoadBalancer lb,
      TrafficPolicy.ClusterSettings settings) {
    ClusterTls.Target tls =
        new ClusterTls.Target(
            push, service, port, ClusterName.parse(name).map(ClusterName::subset).orElse(""));
    Cluster built =
        switch (service.resolution()) {
          case STATIC -> ClusterGenerator.edsCluster(proxy, name, lb, settings, tls);
          case NONE -> {
            Cluster.Builder c =
                Cluster.newBuilder()
                    .setName(name)
                    .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                    .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                    .setConnectTimeout(ClusterGenerator.connectTimeout(push));
            ClusterPolicies.apply(c, settings, !proxy.isProxylessGrpc());
            if (!proxy.isProxylessGrpc()) {
              ClusterTls.apply(c, settings.tls(), tls);
            }
            yield c.build();
          }
          case DNS, DNS_ROUND_ROBIN -> {
            // grpc-java's xDS client takes EDS and LOGICAL_DNS clusters only (STRICT_DNS is
            // NACKed): a proxyless client gets LOGICAL_DNS, one endpoint it resolves itself.
            boolean logical =
                service.resolution() != dev.bowline.controlplane.registry.Resolution.DNS
                    || proxy.isProxylessGrpc();
            List<Endpoint> endpoints = push.registry().endpoints(service.hostname(), port);
            if (logical && !endpoints.isEmpty()) {
              endpoints =
                  endpoints.stream()
                      .filter(e -> e.labels().entrySet().containsAll(subsetLabels.entrySet()))
                      .limit(1)
                      .toList();
            }
            ClusterLoadAssignment cla =
                EndpointGenerator.assignment(name, endpoints, subsetLabels, push);
            Cluster.Builder c =
                Cluster.newBuilder()
                    .setName(name)
                    .setType(
                        logical
                            ? Cluster.DiscoveryType.LOGICAL_DNS
                            : Cluster.DiscoveryType.STRICT_DNS)
                    .setConnectTimeout(ClusterGenerator.connectTimeout(push))
                    .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY)
                    .setRespectDnsTtl(true)
                    .setDnsRefreshRate(
                        push.mesh().dnsRefreshRate() == null
                            ? DEFAULT_DNS_REFRESH
                            : ClusterGenerator.proto(push.mesh().dnsRefreshRate()))
                    .setLoadAssignment(cla);
            switch (lb) {
              case LEAST_REQUEST -> c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
              case RANDOM -> c.setLbPolicy(Cluster.LbPolicy.RANDOM);
              default -> c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
            }
            ClusterPolicies.apply(c, settings, !proxy.isProxylessGrpc());
            if (!proxy.isProxylessGrpc()) {
              ClusterTls.apply(c, settings.tls(), tls);
            }
            yield c.build();
          }
        };
    if (proxy.isProxylessGrpc()) {
      return built;
    }
    Cluster.Builder c = built.toBuilder();
    ClusterPolicies.applyUpstreamProtocol(
        c,
        service.port(port).map(ServicePort::protocol).orElse(Protocol.TCP),
        true,
        proxy.type() == NodeType.SIDECAR,
        settings.pool(),
        push.mesh().h2UpgradePolicy());
    return c.build();
  }
}
