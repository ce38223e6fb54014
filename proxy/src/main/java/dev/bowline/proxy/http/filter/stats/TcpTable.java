package dev.bowline.proxy.http.filter.stats;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The TCP series of one kind of stats filter (prefix, overrides) by their label values. Looked up
 * when a connection's labels are known and when it closes, never per byte.
 */
final class TcpTable {
  final String prefix;
  final Map<TcpMetric, MetricOverride> overrides;
  private final ConcurrentHashMap<List<String>, TcpSeries> series = new ConcurrentHashMap<>();

  TcpTable(String prefix, Map<TcpMetric, MetricOverride> overrides) {
    this.prefix = prefix;
    this.overrides = Map.copyOf(overrides);
  }

  /** The series of label {@code values} (in {@link TcpMetric#LABELS} order). */
  TcpSeries get(List<String> values, Function<List<String>, TcpSeries> create) {
    TcpSeries s = series.get(values);
    return s != null ? s : series.computeIfAbsent(values, create);
  }

  Iterable<TcpSeries> all() {
    return series.values();
  }
}
