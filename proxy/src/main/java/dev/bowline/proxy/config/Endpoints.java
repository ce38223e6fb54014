package dev.bowline.proxy.config;

import java.util.List;
import java.util.Map;

/**
 * A cluster's endpoints ({@code ClusterLoadAssignment}), healthy ones only.
 *
 * @param overprovisioningFactor {@code policy.overprovisioning_factor} in percent (Envoy's default
 *     140): a priority level whose healthy share times this reaches 100 takes all its load
 */
public record Endpoints(
    String clusterName,
    List<Endpoint> endpoints,
    int overprovisioningFactor,
    java.util.Set<SocketAddr> unhealthy) {
  public Endpoints {
    endpoints = List.copyOf(endpoints);
    unhealthy = java.util.Set.copyOf(unhealthy);
  }

  /**
   * Endpoints without any the control plane named {@code UNHEALTHY}, {@code DRAINING} or {@code
   * TIMEOUT} (those are left out, and listed in {@link #unhealthy}: an endpoint so marked is not
   * one the control plane removed).
   */
  public Endpoints(String clusterName, List<Endpoint> endpoints, int overprovisioningFactor) {
    this(clusterName, endpoints, overprovisioningFactor, java.util.Set.of());
  }

  /** Endpoints with Envoy's default overprovisioning factor. */
  public Endpoints(String clusterName, List<Endpoint> endpoints) {
    this(clusterName, endpoints, 140);
  }

  /**
   * One upstream host. {@code weight} is at least 1.
   *
   * @param priority its locality's priority level (0 is the highest)
   * @param locality its locality as {@code region/zone/sub_zone}
   * @param localityWeight its locality's {@code load_balancing_weight}, 0 when unset
   * @param socketMatch its {@code envoy.transport_socket_match} metadata (string values), which
   *     picks the cluster's transport socket
   * @param hostname the host's name, empty when it has none: an EDS or STATIC endpoint's {@code
   *     endpoint.hostname}, the name a STRICT_DNS/LOGICAL_DNS address was resolved from (Envoy's
   *     {@code HostDescription::hostname}, what a route's {@code auto_host_rewrite} sends as Host)
   */
  public record Endpoint(
      SocketAddr address,
      int weight,
      int priority,
      String locality,
      int localityWeight,
      Map<String, String> socketMatch,
      String hostname) {
    public Endpoint {
      socketMatch = Map.copyOf(socketMatch);
      java.util.Objects.requireNonNull(hostname, "hostname");
    }

    /** A host without a hostname. */
    public Endpoint(
        SocketAddr address,
        int weight,
        int priority,
        String locality,
        int localityWeight,
        Map<String, String> socketMatch) {
      this(address, weight, priority, locality, localityWeight, socketMatch, "");
    }

    /** A host at priority 0 in the unnamed locality. */
    public Endpoint(SocketAddr address, int weight) {
      this(address, weight, 0, "", 0, Map.of());
    }

    /** A host without transport socket match metadata. */
    public Endpoint(
        SocketAddr address, int weight, int priority, String locality, int localityWeight) {
      this(address, weight, priority, locality, localityWeight, Map.of());
    }

    /** A host at priority 0 in the unnamed locality with transport socket match metadata. */
    public Endpoint(SocketAddr address, int weight, Map<String, String> socketMatch) {
      this(address, weight, 0, "", 0, socketMatch);
    }
  }
}
