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
 */
public record RbacConfig(
    Optional<RbacEngine> rules, Optional<RbacEngine> shadowRules, RbacStats stats) {

  /**
   * A route's {@code RBACPerRoute}: its engines replace the filter's; without {@code rbac} the
   * filter does nothing on the route (Envoy).
   */
  public record PerRoute(Optional<RbacEngine> rules, Optional<RbacEngine> shadowRules) {}
}
