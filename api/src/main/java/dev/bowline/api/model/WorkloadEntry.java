package dev.bowline.api.model;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * networking.istio.io WorkloadEntry: a workload outside Kubernetes (also a ServiceEntry endpoint).
 */
public record WorkloadEntry(
    @Nullable String address,
    Map<String, Integer> ports,
    Map<String, String> labels,
    @Nullable String network,
    @Nullable String locality,
    @Nullable Integer weight,
    @Nullable String serviceAccount)
    implements Spec {
  public WorkloadEntry {
    ports = Freeze.map(ports);
    labels = Freeze.map(labels);
  }
}
