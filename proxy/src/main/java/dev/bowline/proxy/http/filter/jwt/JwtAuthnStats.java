package dev.bowline.proxy.http.filter.jwt;

import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.util.Map;

/**
 * Envoy's jwt_authn counters, {@code <scope>jwt_authn.{allowed,denied,cors_preflight_bypassed,
 * jwks_fetch_success,jwks_fetch_failed,jwt_cache_hit,jwt_cache_miss}}, the scope being the
 * connection manager's {@code http.<stat_prefix>.} (Prometheus {@code
 * envoy_http_jwt_authn_<name>{envoy_http_conn_manager_prefix}}, Envoy's tag extraction).
 */
record JwtAuthnStats(
    Counter allowed,
    Counter denied,
    Counter corsPreflightBypassed,
    Counter jwksFetchSuccess,
    Counter jwksFetchFailed,
    Counter jwtCacheHit,
    Counter jwtCacheMiss) {

  static JwtAuthnStats create(Stats stats, String scope) {
    return new JwtAuthnStats(
        counter(stats, scope, "allowed"),
        counter(stats, scope, "denied"),
        counter(stats, scope, "cors_preflight_bypassed"),
        counter(stats, scope, "jwks_fetch_success"),
        counter(stats, scope, "jwks_fetch_failed"),
        counter(stats, scope, "jwt_cache_hit"),
        counter(stats, scope, "jwt_cache_miss"));
  }

  private static Counter counter(Stats stats, String scope, String name) {
    String full = scope + "jwt_authn." + name;
    if (scope.startsWith("http.") && scope.length() > 6) {
      return stats.counter(
          full,
          "envoy_http_jwt_authn_" + name,
          Map.of("envoy_http_conn_manager_prefix", scope.substring(5, scope.length() - 1)));
    }
    return stats.counter(full, "envoy_" + full.replace('.', '_'), Map.of());
  }
}
