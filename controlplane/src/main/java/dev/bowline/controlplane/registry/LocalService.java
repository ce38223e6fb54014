package dev.bowline.controlplane.registry;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A service declared to the local registry, like a Kubernetes Service: it selects workloads of its
 * namespace by labels.
 *
 * @param namespace its namespace
 * @param name its short name; the hostname is {@code name.namespace.svc.<domain>}
 * @param ports its ports
 * @param selector labels a workload must carry to back it (default {@code app: <name>})
 * @param labels the service's own labels
 */
public record LocalService(
    String namespace,
    String name,
    List<ServicePort> ports,
    Map<String, String> selector,
    Map<String, String> labels) {
  public LocalService {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    ports = List.copyOf(ports);
    selector = Map.copyOf(selector);
    labels = Map.copyOf(labels);
    if (namespace.isEmpty() || name.isEmpty()) {
      throw new IllegalArgumentException("service: namespace and name must not be empty");
    }
    if (ports.isEmpty()) {
      throw new IllegalArgumentException(
          "service " + namespace + "/" + name + ": ports: at least one port is required");
    }
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (ServicePort p : ports) {
      if (!seen.add(p.port())) {
        throw new IllegalArgumentException(
            "service " + namespace + "/" + name + ": ports: port " + p.port() + " is listed twice");
      }
    }
  }
}
