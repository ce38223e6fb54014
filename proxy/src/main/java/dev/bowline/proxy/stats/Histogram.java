package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One of Envoy's named histograms (e.g. {@code http.<stat_prefix>.downstream_cx_length_ms}), with
 * Envoy's default Prometheus buckets. Recording takes no lock and allocates nothing: a bucket's
 * striped counter and the sum. {@code /stats} shows it as Envoy does ({@code P0(interval,
 * cumulative) ...}, or {@code No recorded values}); Bowline keeps no flush interval, so the
 * interval figures are {@code nan}, and the cumulative quantiles are read from the buckets (linear
 * inside a bucket), coarser than Envoy's log-linear histogram.
 */
public final class Histogram {
  /** Envoy's default histogram bucket bounds ({@code stats_config.histogram_bucket_settings}). */
  static final double[] BOUNDS = {
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
    1800000, 3600000
  };

  /** The quantiles Envoy's {@code /stats} text shows. */
  private static final double[] QUANTILES = {0, .25, .5, .75, .9, .95, .99, .995, .999, 1};

  private static final String[] QUANTILE_NAMES = {
    "P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"
  };

  private final String name;
  private final String promName;
  private final Map<String, String> tags;
  private final LongAdder[] counts = new LongAdder[BOUNDS.length + 1]; // per bucket; last +Inf
  private final LongAdder sum = new LongAdder();

  Histogram(String name, String promName, Map<String, String> tags) {
    this.name = name;
    this.promName = promName;
    this.tags = tags;
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  public String name() {
    return name;
  }

  String promName() {
    return promName;
  }

  Map<String, String> tags() {
    return tags;
  }

  /** Records {@code v} (milliseconds, as Envoy's timers record). */
  public void record(long v) {
    int i = 0;
    while (i < BOUNDS.length && v > BOUNDS[i]) {
      i++;
    }
    counts[i].increment();
    sum.add(v);
  }

  /** Whether a value was ever recorded (Envoy's {@code used()}, for {@code usedonly}). */
  boolean used() {
    for (LongAdder c : counts) {
      if (c.sum() != 0) {
        return true;
      }
    }
    return false;
  }

  /** Envoy's {@code quantileSummary}: {@code P0(nan,v) P25(nan,v) ...} or no recorded values. */
  String summary() {
    long[] c = new long[counts.length];
    long total = 0;
    for (int i = 0; i < c.length; i++) {
      c[i] = counts[i].sum();
      total += c[i];
    }
    if (total == 0) {
      return "No recorded values";
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < QUANTILES.length; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(QUANTILE_NAMES[i]).append("(nan,");
      number(sb, quantile(c, total, QUANTILES[i]));
      sb.append(')');
    }
    return sb.toString();
  }

  /** The quantiles of {@link #summary} (0 to 100), as Envoy's JSON lists them. */
  static final double[] SUPPORTED_QUANTILES = {0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100};

  /** The cumulative value of each of {@link #SUPPORTED_QUANTILES}, or null if none recorded. */
  double @org.jspecify.annotations.Nullable [] cumulativeQuantiles() {
    long[] c = new long[counts.length];
    long total = 0;
    for (int i = 0; i < c.length; i++) {
      c[i] = counts[i].sum();
      total += c[i];
    }
    if (total == 0) {
      return null;
    }
    double[] out = new double[QUANTILES.length];
    for (int i = 0; i < QUANTILES.length; i++) {
      out[i] = quantile(c, total, QUANTILES[i]);
    }
    return out;
  }

  /** The {@code q} quantile read from bucket counts {@code c}, linear inside a bucket. */
  private static double quantile(long[] c, long total, double q) {
    double rank = q * total;
    long below = 0;
    for (int i = 0; i < c.length; i++) {
      if (c[i] > 0 && below + c[i] >= rank) {
        double lo = i == 0 ? 0 : BOUNDS[i - 1];
        if (i == BOUNDS.length) {
          return lo; // past the last bound: no upper edge to interpolate to
        }
        double hi = BOUNDS[i];
        double within = Math.max(0, rank - below) / c[i];
        return Math.round((lo + (hi - lo) * within) * 1000) / 1000.0;
      }
      below += c[i];
    }
    return BOUNDS[BOUNDS.length - 1];
  }

  /**
   * This histogram's Prometheus lines ({@code _bucket}s cumulative, {@code _sum}, {@code _count}).
   */
  void prometheus(StringBuilder sb) {
    long cumulative = 0;
    for (int b = 0; b <= BOUNDS.length; b++) {
      cumulative += counts[b].sum();
      sb.append(promName).append("_bucket");
      Stats.labels(sb, tags, b == BOUNDS.length ? "+Inf" : bound(BOUNDS[b]));
      sb.append(' ').append(cumulative).append('\n');
    }
    sb.append(promName).append("_sum");
    Stats.labels(sb, tags, null);
    sb.append(' ').append(sum.sum()).append('\n');
    sb.append(promName).append("_count");
    Stats.labels(sb, tags, null);
    sb.append(' ').append(cumulative).append('\n');
  }

  private static String bound(double b) {
    StringBuilder sb = new StringBuilder();
    number(sb, b);
    return sb.toString();
  }

  private static void number(StringBuilder sb, double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      sb.append((long) v);
    } else {
      sb.append(v);
    }
  }
}
