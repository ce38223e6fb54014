package dev.bowline.config.analysis;

import java.util.List;
import java.util.Map;

/**
 * Services and workloads known outside the Istio config (the local runner's {@code mesh.yaml}, the
 * control plane's registry file), as Kubernetes Services and pods are to {@code istioctl analyze}:
 * their hosts count as found and their labels as workloads a selector can match.
 *
 * @param services services, each reachable as {@code name.namespace.svc.<domain>}
 * @param workloads workloads with their labels
 */
public record LocalRegistry(List<Service> services, List<Workload> workloads) {
  public LocalRegistry {
    services = List.copyOf(services);
    workloads = List.copyOf(workloads);
  }

  /** No services, no workloads. */
  public static LocalRegistry empty() {
    return new LocalRegistry(List.of(), List.of());
  }

  /** Both registries' services and workloads. */
  public LocalRegistry plus(LocalRegistry other) {
    return new LocalRegistry(
        java.util.stream.Stream.concat(services.stream(), other.services.stream())
            .distinct()
            .toList(),
        java.util.stream.Stream.concat(workloads.stream(), other.workloads.stream()).toList());
  }

  /** A service {@code namespace/name}. */
  public record Service(String namespace, String name) {}

  /** A workload (pod) in {@code namespace} with {@code labels}. */
  public record Workload(String namespace, String name, Map<String, String> labels) {
    public Workload {
      labels = Map.copyOf(labels);
    }
  }
}
