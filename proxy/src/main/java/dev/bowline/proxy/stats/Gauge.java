package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A value that goes up and down under an Envoy stat name, read from its owner when the stats are
 * shown (so the request path only updates the owner's own count, never a second one).
 *
 * @param name Envoy's dotted name, e.g. {@code cluster.backend.upstream_rq_pending_active}
 * @param promName the Prometheus family, e.g. {@code envoy_cluster_upstream_rq_pending_active}
 * @param tags Prometheus labels extracted from the dotted name, as Envoy's tag extractors do
 * @param source reads the current value; any thread
 */
public record Gauge(String name, String promName, Map<String, String> tags, LongSupplier source) {
  public long value() {
    return source.getAsLong();
  }
}
