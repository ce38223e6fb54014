package dev.bowline.proxy.rbac;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's RBAC engine: policies by name (Envoy keeps them in a sorted map, so the first match in
 * name order is the effective policy) and what a match means.
 *
 * @param action ALLOW: allowed when a policy matches; DENY: allowed when none does; LOG: always
 *     allowed, a match asks the access log to log
 * @param policies sorted by name
 */
public record RbacEngine(Action action, List<Policy> policies) {
  public RbacEngine {
    policies = policies.stream().sorted(java.util.Comparator.comparing(Policy::name)).toList();
  }

  /** Envoy's {@code RBAC.Action}. */
  public enum Action {
    ALLOW,
    DENY,
    LOG
  }

  /**
   * A named policy: it matches when one of its permissions and one of its principals do.
   *
   * @param permissions the permissions, OR'ed
   * @param principals the principals, OR'ed
   */
  public record Policy(String name, Matcher permissions, Matcher principals) {
    boolean matches(RbacInput in) {
      return permissions.matches(in) && principals.matches(in);
    }
  }

  /** The first policy (by name) that matches {@code in}; null when none does. */
  public @Nullable Policy firstMatch(RbacInput in) {
    for (Policy p : policies) {
      if (p.matches(in)) {
        return p;
      }
    }
    return null;
  }

  /** Whether a request whose first matching policy is {@code matched} may pass. */
  public boolean allowed(@Nullable Policy matched) {
    return switch (action) {
      case ALLOW -> matched != null;
      case DENY -> matched == null;
      case LOG -> true;
    };
  }
}
