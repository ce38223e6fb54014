package dev.bowline.proxy.upstream;

import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Envoy's {@code cluster.<name>.health_check.*} statistics of a cluster with active health checks:
 * {@code attempt} (probes started), {@code success}, {@code failure} (every failed probe, network
 * failures included), {@code network_failure} (no connection or no answer in time), {@code
 * passive_failure} and {@code verify_cluster} (kept at zero: the proxy has neither immediate
 * health-check failure headers nor service name matching), and the gauge {@code healthy}.
 */
record HcStats(
    Counter attempt,
    Counter success,
    Counter failure,
    Counter networkFailure,
    Counter passiveFailure,
    Counter verifyCluster) {

  static HcStats create(Stats s, String cluster, LongSupplier healthy) {
    Map<String, String> tags = Map.of("envoy_cluster_name", cluster);
    String p = "cluster." + cluster + ".health_check.";
    String q = "envoy_cluster_health_check_";
    s.gauge(p + "healthy", q + "healthy", tags, healthy);
    return new HcStats(
        s.counter(p + "attempt", q + "attempt", tags),
        s.counter(p + "success", q + "success", tags),
        s.counter(p + "failure", q + "failure", tags),
        s.counter(p + "network_failure", q + "network_failure", tags),
        s.counter(p + "passive_failure", q + "passive_failure", tags),
        s.counter(p + "verify_cluster", q + "verify_cluster", tags));
  }
}
