package dev.bowline.proxy.http.filter.stats;

import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import java.util.Map;

/**
 * The stats filter of one listener.
 *
 * @param reporter which side this listener counts as
 * @param local this workload, from the node metadata
 * @param disableHostHeaderFallback never take the destination service from the Host header
 * @param overrides per metric, from the config's {@code metrics[]}
 * @param table where the series live (per reporter and overrides, shared by listeners alike)
 */
public record StatsConfig(
    Reporter reporter,
    PeerInfo local,
    boolean disableHostHeaderFallback,
    Map<Metric, MetricOverride> overrides,
    SeriesTable table) {
  public StatsConfig {
    overrides = Map.copyOf(overrides);
  }
}
