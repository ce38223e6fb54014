package dev.bowline.proxy.config;

import java.util.List;
import java.util.Map;

/** A cluster's endpoints ({@code ClusterLoadAssignment}), healthy ones only. */
public record Endpoints(String clusterName, List<Endpoint> endpoints) {
  public Endpoints {
    endpoints = List.copyOf(endpoints);
  }

  /**
   * One upstream host. {@code weight} is at least 1; {@code socketMatch} is its {@code
   * envoy.transport_socket_match} metadata (string values), which picks the cluster's transport
   * socket.
   */
  public record Endpoint(SocketAddr address, int weight, Map<String, String> socketMatch) {
    public Endpoint {
      socketMatch = Map.copyOf(socketMatch);
    }

    public Endpoint(SocketAddr address, int weight) {
      this(address, weight, Map.of());
    }
  }
}
