package dev.bowline.proxy.http.filter.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One proxy's Istio standard metrics: every stats filter's series tables, written out in the
 * Prometheus text format beside the proxy's own stats. Series that look alike after {@code
 * tags_to_remove} are added up when written.
 */
public final class StandardMetrics {
  private record TableKey(String prefix, Map<Metric, MetricOverride> overrides) {}

  private final ConcurrentHashMap<TableKey, SeriesTable> tables = new ConcurrentHashMap<>();

  private record TcpKey(String prefix, Map<TcpMetric, MetricOverride> overrides) {}

  private final ConcurrentHashMap<TcpKey, TcpTable> tcpTables = new ConcurrentHashMap<>();

  /** The TCP table for filters with {@code prefix} and {@code overrides}. */
  TcpTable tcpTable(String prefix, Map<TcpMetric, MetricOverride> overrides) {
    return tcpTables.computeIfAbsent(
        new TcpKey(prefix, Map.copyOf(overrides)), k -> new TcpTable(k.prefix(), k.overrides()));
  }

  /** The table for filters with {@code prefix} and {@code overrides}, shared by all of them. */
  SeriesTable table(String prefix, Map<Metric, MetricOverride> overrides) {
    return tables.computeIfAbsent(
        new TableKey(prefix, Map.copyOf(overrides)),
        k -> new SeriesTable(k.prefix(), k.overrides()));
  }

  /** Appends every metric family in the Prometheus text format to {@code out}. */
  public void writePrometheus(StringBuilder out) {
    Map<String, List<Series>> byPrefix = new LinkedHashMap<>();
    for (SeriesTable t : new ArrayList<>(tables.values())) {
      byPrefix.computeIfAbsent(t.prefix, p -> new ArrayList<>()).addAll(t.allSeries());
    }
    for (var e : byPrefix.entrySet()) {
      for (Metric m : Metric.values()) {
        write(out, e.getKey() + "_" + m.configName(), m, e.getValue());
      }
    }
    Map<String, List<TcpSeries>> tcpByPrefix = new LinkedHashMap<>();
    for (TcpTable t : new ArrayList<>(tcpTables.values())) {
      List<TcpSeries> l = tcpByPrefix.computeIfAbsent(t.prefix, p -> new ArrayList<>());
      t.all().forEach(l::add);
    }
    for (var e : tcpByPrefix.entrySet()) {
      for (TcpMetric m : TcpMetric.values()) {
        Map<String, long[]> sums = new LinkedHashMap<>();
        for (TcpSeries s : e.getValue()) {
          String labels = s.labels[m.ordinal()];
          if (labels != null) {
            sums.computeIfAbsent(labels, l -> new long[1])[0] += s.value(m);
          }
        }
        if (sums.isEmpty()) {
          continue;
        }
        String name = e.getKey() + "_" + m.configName();
        out.append("# TYPE ").append(name).append(" counter\n");
        sums.forEach(
            (labels, v) ->
                out.append(name).append('{').append(labels).append("} ").append(v[0]).append('\n'));
      }
    }
  }

  private static void write(StringBuilder out, String name, Metric m, List<Series> series) {
    int i = m.ordinal();
    if (m == Metric.REQUESTS_TOTAL) {
      Map<String, long[]> sums = new LinkedHashMap<>();
      for (Series s : series) {
        String labels = s.labels[i];
        if (labels != null) {
          sums.computeIfAbsent(labels, l -> new long[1])[0] += s.requests.sum();
        }
      }
      if (sums.isEmpty()) {
        return;
      }
      out.append("# TYPE ").append(name).append(" counter\n");
      sums.forEach(
          (labels, v) ->
              out.append(name).append('{').append(labels).append("} ").append(v[0]).append('\n'));
      return;
    }
    Map<String, double[]> agg = new LinkedHashMap<>(); // per labels: counts per bucket, then sum
    double[] bounds = null;
    for (Series s : series) {
      String labels = s.labels[i];
      if (labels == null) {
        continue;
      }
      Histogram h =
          switch (m) {
            case REQUEST_DURATION_MILLISECONDS -> s.duration;
            case REQUEST_BYTES -> s.requestBytes;
            default -> s.responseBytes;
          };
      bounds = h.bounds;
      double[] a = agg.computeIfAbsent(labels, l -> new double[h.counts.length + 1]);
      for (int b = 0; b < h.counts.length; b++) {
        a[b] += h.counts[b].sum();
      }
      a[h.counts.length] += h.sum.sum();
    }
    if (agg.isEmpty() || bounds == null) {
      return;
    }
    out.append("# TYPE ").append(name).append(" histogram\n");
    for (var e : agg.entrySet()) {
      String labels = e.getKey();
      double[] a = e.getValue();
      long cumulative = 0;
      for (int b = 0; b <= bounds.length; b++) {
        cumulative += (long) a[b];
        out.append(name).append("_bucket{").append(labels).append(",le=\"");
        if (b == bounds.length) {
          out.append("+Inf");
        } else {
          number(out, bounds[b]);
        }
        out.append("\"} ").append(cumulative).append('\n');
      }
      out.append(name).append("_sum{").append(labels).append("} ");
      number(out, a[bounds.length + 1]);
      out.append('\n');
      out.append(name)
          .append("_count{")
          .append(labels)
          .append("} ")
          .append(cumulative)
          .append('\n');
    }
  }

  private static void number(StringBuilder out, double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      out.append((long) v);
    } else {
      out.append(v);
    }
  }
}
