package dev.bowline.controlplane.dashboard;

import dev.bowline.controlplane.dashboard.PrometheusText.Sample;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The increases of every scraped counter and histogram bucket over a sliding window, per scrape
 * target (a proxy's {@code /stats/prometheus}). Each scrape after a target's first one becomes an
 * interval: for every series, how much it grew since the previous scrape of that target. A value
 * that went down is a counter reset (the proxy restarted) and counts from zero, as Prometheus's
 * {@code increase()}; a series absent from the previous scrape of the same target is new and counts
 * from zero too (a proxy creates a series with its first request), which Prometheus would miss.
 *
 * <p>Owned by the scraper's thread: not thread-safe.
 */
final class MetricsWindow {
  /** One series: a metric name and its full label set. */
  record SeriesKey(String name, Map<String, String> labels) {}

  /** Increases over {@code seconds} of one target. */
  record Totals(double seconds, Map<SeriesKey, Double> increases) {}

  private record Interval(long startNanos, long endNanos, Map<SeriesKey, Double> increases) {}

  private static final class Target {
    @Nullable Map<SeriesKey, Double> last;
    long lastNanos;
    final ArrayDeque<Interval> intervals = new ArrayDeque<>();
  }

  private final long windowNanos;
  private final Map<String, Target> targets = new LinkedHashMap<>();

  MetricsWindow(Duration window) {
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window " + window + ": must be positive");
    }
    this.windowNanos = window.toNanos();
  }

  /** Records a scrape of {@code target} taken at {@code nanos}. */
  void record(String target, long nanos, Collection<Sample> samples) {
    Map<SeriesKey, Double> now = new HashMap<>();
    for (Sample s : samples) {
      if (!Double.isNaN(s.value())) {
        now.merge(new SeriesKey(s.name(), s.labels()), s.value(), Double::sum);
      }
    }
    Target t = targets.computeIfAbsent(target, k -> new Target());
    Map<SeriesKey, Double> before = t.last;
    if (before != null && nanos > t.lastNanos) {
      Map<SeriesKey, Double> inc = new HashMap<>();
      now.forEach(
          (k, v) -> {
            Double b = before.get(k);
            inc.put(k, b == null || v < b ? v : v - b);
          });
      t.intervals.addLast(new Interval(t.lastNanos, nanos, inc));
    }
    t.last = now;
    t.lastNanos = nanos;
    expire(t, nanos);
  }

  /** Forgets every target not in {@code live} (a proxy that disconnected). */
  void retain(Set<String> live) {
    targets.keySet().retainAll(live);
  }

  /** Per target with at least one interval in the window ending at {@code nowNanos}. */
  Map<String, Totals> totals(long nowNanos) {
    Map<String, Totals> out = new LinkedHashMap<>();
    targets.forEach(
        (name, t) -> {
          expire(t, nowNanos);
          if (t.intervals.isEmpty()) {
            return;
          }
          Map<SeriesKey, Double> sum = new HashMap<>();
          for (Interval i : t.intervals) {
            i.increases().forEach((k, v) -> sum.merge(k, v, Double::sum));
          }
          double seconds =
              (t.intervals.getLast().endNanos() - t.intervals.getFirst().startNanos()) / 1e9;
          out.put(name, new Totals(seconds, Map.copyOf(sum)));
        });
    return out;
  }

  /** Targets known (scraped at least once). */
  List<String> targets() {
    return List.copyOf(targets.keySet());
  }

  private void expire(Target t, long nowNanos) {
    while (!t.intervals.isEmpty() && t.intervals.getFirst().endNanos() <= nowNanos - windowNanos) {
      t.intervals.removeFirst();
    }
  }
}
