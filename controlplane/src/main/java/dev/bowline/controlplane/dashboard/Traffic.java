package dev.bowline.controlplane.dashboard;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Requests over a window: rate, error rate and the request-duration histogram's bucket increases
 * (cumulative, by upper bound in milliseconds, {@code +Inf} last), from which quantiles are
 * estimated as Prometheus's {@code histogram_quantile} does.
 *
 * @param rps requests per second
 * @param errorRps failed requests per second (5xx, no response, or a non-OK gRPC status)
 * @param requests requests counted in the window
 * @param buckets cumulative bucket increases by upper bound
 */
record Traffic(double rps, double errorRps, double requests, SortedMap<Double, Double> buckets) {
  static final Traffic NONE = new Traffic(0, 0, 0, new TreeMap<>());

  Traffic {
    buckets = Collections.unmodifiableSortedMap(new TreeMap<>(buckets));
  }

  /** Both together (bucket counts add by bound). */
  Traffic plus(Traffic o) {
    TreeMap<Double, Double> b = new TreeMap<>(buckets);
    o.buckets.forEach((le, v) -> b.merge(le, v, Double::sum));
    return new Traffic(rps + o.rps, errorRps + o.errorRps, requests + o.requests, b);
  }

  /** Failed share of requests, 0..1 (0 without requests). */
  double errorRate() {
    return rps > 0 ? Math.min(1, errorRps / rps) : 0;
  }

  /**
   * The {@code q} quantile of request duration in milliseconds, NaN without observations: the
   * bucket holding rank {@code q * count}, interpolated linearly inside it (lower bound 0 for the
   * first); a rank in the {@code +Inf} bucket answers the largest finite bound.
   */
  double quantile(double q) {
    if (buckets.isEmpty()) {
      return Double.NaN;
    }
    double total = buckets.get(buckets.lastKey());
    if (!(total > 0)) {
      return Double.NaN;
    }
    double rank = q * total;
    double lower = 0;
    double below = 0;
    double lastFinite = 0;
    for (Map.Entry<Double, Double> e : buckets.entrySet()) {
      double le = e.getKey();
      double count = e.getValue();
      if (count >= rank && count > below) {
        if (Double.isInfinite(le)) {
          return lastFinite;
        }
        return lower + (le - lower) * (rank - below) / (count - below);
      }
      if (!Double.isInfinite(le)) {
        lastFinite = le;
        lower = le;
      }
      below = Math.max(below, count);
    }
    return lastFinite;
  }
}
