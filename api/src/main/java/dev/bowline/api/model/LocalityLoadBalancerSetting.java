package dev.bowline.api.model;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Locality-weighted load balancing: distribute, failover or failoverPriority. */
public record LocalityLoadBalancerSetting(
    List<Distribute> distribute,
    List<Failover> failover,
    List<String> failoverPriority,
    @Nullable Boolean enabled) {
  public LocalityLoadBalancerSetting {
    distribute = Freeze.list(distribute);
    failover = Freeze.list(failover);
    failoverPriority = Freeze.list(failoverPriority);
  }

  /** Traffic from {@code from} is split over localities {@code to} by weight (sums to 100). */
  public record Distribute(@Nullable String from, Map<String, Integer> to) {
    public Distribute {
      to = Freeze.map(to);
    }
  }

  /** When {@code from}'s endpoints are unhealthy, traffic fails over to region {@code to}. */
  public record Failover(@Nullable String from, @Nullable String to) {}
}
