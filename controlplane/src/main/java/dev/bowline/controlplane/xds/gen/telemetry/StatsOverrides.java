package dev.bowline.controlplane.xds.gen.telemetry;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the Telemetry API changes about Istio's standard metrics for one proxy: whether the
 * Prometheus provider is on at all, and per metric (by the stats config's name, {@code ""} for all)
 * whether it is dropped and which labels are removed.
 *
 * @param disabled no stats filter at all
 * @param metrics per metric name: its override
 */
public record StatsOverrides(boolean disabled, Map<String, Metric> metrics) {
  /** Istio's defaults. */
  public static final StatsOverrides NONE = new StatsOverrides(false, Map.of());

  public StatsOverrides {
    metrics = Map.copyOf(new TreeMap<>(metrics));
  }

  /**
   * One metric's override.
   *
   * @param drop not reported
   * @param tagsToRemove labels left out
   */
  public record Metric(boolean drop, Set<String> tagsToRemove) {
    public Metric {
      tagsToRemove = Set.copyOf(new TreeSet<>(tagsToRemove));
    }
  }

  /** The stats plugin's JSON config ({@code stats.PluginConfig}). */
  String json(boolean disableHostHeaderFallback) {
    StringBuilder sb = new StringBuilder("{\"debug\":\"false\",\"stat_prefix\":\"istio\"");
    if (disableHostHeaderFallback) {
      sb.append(",\"disable_host_header_fallback\":true");
    }
    if (!metrics.isEmpty()) {
      sb.append(",\"metrics\":[");
      boolean first = true;
      for (var e : new TreeMap<>(metrics).entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        sb.append('{');
        if (!e.getKey().isEmpty()) {
          sb.append("\"name\":\"").append(e.getKey()).append("\",");
        }
        sb.append("\"drop\":").append(e.getValue().drop());
        List<String> tags = List.copyOf(new TreeSet<>(e.getValue().tagsToRemove()));
        if (!tags.isEmpty()) {
          sb.append(",\"tags_to_remove\":[");
          for (int i = 0; i < tags.size(); i++) {
            sb.append(i == 0 ? "" : ",").append('"').append(tags.get(i)).append('"');
          }
          sb.append(']');
        }
        sb.append('}');
      }
      sb.append(']');
    }
    return sb.append('}').toString();
  }
}
