package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.Endpoints;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.List;

/** {@code ClusterLoadAssignment} → {@link Endpoints}; unhealthy endpoints are left out. */
public final class EndpointParser extends ResourceParser<ClusterLoadAssignment, Endpoints> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  public EndpointParser() {
    super(TYPE_URL, ClusterLoadAssignment.getDescriptor(), ClusterLoadAssignment.parser());
  }

  @Override
  public String name(ClusterLoadAssignment proto) {
    return proto.getClusterName();
  }

  @Override
  public Endpoints parse(ClusterLoadAssignment cla) throws InvalidResourceException {
    List<Endpoints.Endpoint> list = new ArrayList<>();
    java.util.Set<dev.bowline.proxy.config.SocketAddr> unhealthy = new java.util.HashSet<>();
    for (int i = 0; i < cla.getEndpointsCount(); i++) {
      var locality = cla.getEndpoints(i);
      var l = locality.getLocality();
      String localityName = l.getRegion() + "/" + l.getZone() + "/" + l.getSubZone();
      int localityWeight =
          locality.hasLoadBalancingWeight() ? locality.getLoadBalancingWeight().getValue() : 0;
      for (int j = 0; j < locality.getLbEndpointsCount(); j++) {
        var lbe = locality.getLbEndpoints(j);
        String field = "endpoints[" + i + "].lb_endpoints[" + j + "]";
        if (!lbe.hasEndpoint()) {
          throw new InvalidResourceException(field + ".endpoint", "is required");
        }
        var addr = Protos.address(lbe.getEndpoint().getAddress(), field + ".endpoint.address");
        if (addr.port() == 0) {
          throw new InvalidResourceException(
              field + ".endpoint.address.socket_address.port_value", "must not be 0");
        }
        HealthStatus h = lbe.getHealthStatus();
        if (h == HealthStatus.UNHEALTHY
            || h == HealthStatus.DRAINING
            || h == HealthStatus.TIMEOUT) {
          unhealthy.add(addr);
          continue;
        }
        int weight = lbe.hasLoadBalancingWeight() ? lbe.getLoadBalancingWeight().getValue() : 1;
        if (weight < 1) {
          throw new InvalidResourceException(
              field + ".load_balancing_weight", "must be at least 1");
        }
        list.add(
            new Endpoints.Endpoint(
                addr,
                weight,
                locality.getPriority(),
                localityName,
                localityWeight,
                TlsParser.endpointMatch(lbe.getMetadata()),
                lbe.getEndpoint().getHostname()));
      }
    }
    int factor = 140;
    if (cla.getPolicy().hasOverprovisioningFactor()) {
      factor = cla.getPolicy().getOverprovisioningFactor().getValue();
      if (factor < 1) {
        throw new InvalidResourceException("policy.overprovisioning_factor", "must be at least 1");
      }
    }
    return new Endpoints(cla.getClusterName(), list, factor, unhealthy);
  }

  private static final java.util.Set<String> HONOURED =
      java.util.Set.of(
          "cluster_name",
          "endpoints.lb_endpoints.endpoint.address",
          // the host's name: a route's auto_host_rewrite sends it as Host
          "endpoints.lb_endpoints.endpoint.hostname",
          "endpoints.lb_endpoints.health_status",
          "endpoints.lb_endpoints.load_balancing_weight",
          "endpoints.locality",
          "endpoints.priority",
          "endpoints.load_balancing_weight",
          "policy.overprovisioning_factor",
          "endpoints.lb_endpoints.metadata.filter_metadata");

  @Override
  java.util.Set<String> honouredFields() {
    return HONOURED;
  }
}
