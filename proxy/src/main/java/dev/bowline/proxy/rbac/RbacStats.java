package dev.bowline.proxy.rbac;

import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.util.Map;

/**
 * Envoy's RBAC counters, {@code <scope>rbac.{allowed,denied,<shadow_prefix>shadow_allowed,
 * <shadow_prefix>shadow_denied,logged,not_logged}}: the HTTP filter's scope is {@code http.<hcm
 * stat_prefix>.}, the network filter's its own {@code stat_prefix}.
 */
public record RbacStats(
    Counter allowed,
    Counter denied,
    Counter shadowAllowed,
    Counter shadowDenied,
    Counter logged,
    Counter notLogged) {

  /** The counters under {@code scope} (e.g. {@code http.inbound_0.0.0.0_8080.}, {@code tcp.}). */
  public static RbacStats create(Stats stats, String scope, String shadowPrefix) {
    String p = scope + "rbac.";
    return new RbacStats(
        counter(stats, scope, p + "allowed"),
        counter(stats, scope, p + "denied"),
        counter(stats, scope, p + shadowPrefix + "shadow_allowed"),
        counter(stats, scope, p + shadowPrefix + "shadow_denied"),
        counter(stats, scope, p + "logged"),
        counter(stats, scope, p + "not_logged"));
  }

  private static Counter counter(Stats stats, String scope, String name) {
    if (scope.startsWith("http.") && scope.length() > 6) {
      // Envoy's tag extraction: http.<prefix>.rbac.x -> envoy_http_rbac_x{conn manager prefix}
      String hcm = scope.substring(5, scope.length() - 1);
      String rest = name.substring(scope.length());
      return stats.counter(
          name,
          "envoy_http_" + rest.replace('.', '_'),
          Map.of("envoy_http_conn_manager_prefix", hcm));
    }
    return stats.counter(name, "envoy_" + name.replace('.', '_'), Map.of());
  }
}
