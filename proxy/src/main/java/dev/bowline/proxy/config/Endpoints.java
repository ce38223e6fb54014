package dev.bowline.proxy.config;

import java.util.List;

/** A cluster's endpoints ({@code ClusterLoadAssignment}), healthy ones only. */
public record Endpoints(String clusterName, List<Endpoint> endpoints) {
  public Endpoints {
    endpoints = List.copyOf(endpoints);
  }

  /** One upstream host. {@code weight} is at least 1. */
  public record Endpoint(SocketAddr address, int weight) {}
}
