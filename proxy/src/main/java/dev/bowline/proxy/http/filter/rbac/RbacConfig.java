package dev.bowline.proxy.http.filter.rbac;

import dev.bowline.proxy.rbac.RbacEngine;
import dev.bowline.proxy.rbac.RbacStats;
import java.util.Optional;

/**
 * The HTTP RBAC filter's config, compiled once.
 *
 * @param rules the enforced engine; empty: nothing is enforced
 * @param shadowRules the shadow engine; empty: none
 * @param stats the filter's counters (also used when a route's config applies)
 * @param shadowPrefix {@code shadow_rules_stat_prefix}, which Envoy also puts before the keys of
 *     the shadow result in the dynamic metadata ({@code <prefix>shadow_effective_policy_id});
 *     Istio's CUSTOM action relies on it
 */
public record RbacConfig(
    Optional<RbacEngine> rules,
    Optional<RbacEngine> shadowRules,
    RbacStats stats,
    String shadowPrefix) {

  /** A config whose shadow result keys have no prefix. */
  public RbacConfig(Optional<RbacEngine> rules, Optional<RbacEngine> shadowRules, RbacStats stats) {
    this(rules, shadowRules, stats, "");
  }

  /**
   * A route's {@code RBACPerRoute}: its engines replace the filter's; without {@code rbac} the
   * filter does nothing on the route (Envoy).
   */
  public record PerRoute(Optional<RbacEngine> rules, Optional<RbacEngine> shadowRules) {}
}
