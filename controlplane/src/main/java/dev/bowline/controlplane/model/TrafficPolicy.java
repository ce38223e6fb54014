package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The resolved DestinationRule traffic policy for one host, in the form generators need (merged and
 * with Istio's precedence already applied by whoever implements {@link
 * ConfigInputs.DestinationRules}).
 *
 * @param loadBalancer the load-balancing policy for the host
 * @param subsets named subsets: each selects endpoints by labels and becomes a cluster {@code
 *     outbound|port|subset|host}
 */
public record TrafficPolicy(LoadBalancer loadBalancer, List<Subset> subsets) {
  /** No DestinationRule: round robin, no subsets. */
  public static final TrafficPolicy DEFAULT =
      new TrafficPolicy(LoadBalancer.ROUND_ROBIN, List.of());

  public TrafficPolicy {
    Objects.requireNonNull(loadBalancer, "loadBalancer");
    subsets = List.copyOf(subsets);
  }

  /** Istio's {@code loadBalancer.simple} values that map to an Envoy LB policy. */
  public enum LoadBalancer {
    ROUND_ROBIN,
    LEAST_REQUEST,
    RANDOM,
    PASSTHROUGH
  }

  /** A DestinationRule subset. */
  public record Subset(String name, Map<String, String> labels, LoadBalancer loadBalancer) {
    public Subset {
      Objects.requireNonNull(name, "name");
      labels = Map.copyOf(labels);
      Objects.requireNonNull(loadBalancer, "loadBalancer");
    }
  }
}
