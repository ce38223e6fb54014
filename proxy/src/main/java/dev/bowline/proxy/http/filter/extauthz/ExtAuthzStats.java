package dev.bowline.proxy.http.filter.extauthz;

import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.util.Map;

/**
 * Envoy's ext_authz counters, {@code <scope>ext_authz.{ok,denied,error,disabled,
 * failure_mode_allowed}}, the scope being the connection manager's {@code http.<stat_prefix>.}.
 */
record ExtAuthzStats(
    Counter ok, Counter denied, Counter error, Counter disabled, Counter failureModeAllowed) {

  static ExtAuthzStats create(Stats stats, String scope) {
    return new ExtAuthzStats(
        counter(stats, scope, "ok"),
        counter(stats, scope, "denied"),
        counter(stats, scope, "error"),
        counter(stats, scope, "disabled"),
        counter(stats, scope, "failure_mode_allowed"));
  }

  private static Counter counter(Stats stats, String scope, String name) {
    String full = scope + "ext_authz." + name;
    if (scope.startsWith("http.") && scope.length() > 6) {
      // Envoy's tag extraction: http.<prefix>.ext_authz.x -> envoy_http_ext_authz_x{prefix}
      return stats.counter(
          full,
          "envoy_http_ext_authz_" + name,
          Map.of("envoy_http_conn_manager_prefix", scope.substring(5, scope.length() - 1)));
    }
    return stats.counter(full, "envoy_" + full.replace('.', '_'), Map.of());
  }
}
