package dev.bowline.proxy.http.filter.stats;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Prometheus histogram of striped counters: recording takes no lock and, once the stripes exist,
 * allocates nothing. Buckets are cumulative only when written out.
 */
final class Histogram {
  /** Istio's {@code istio_request_duration_milliseconds} buckets. */
  static final double[] DURATION_MS = {
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
    1800000, 3600000
  };

  /** Istio's byte-size buckets: powers of ten from 1 to 10^9. */
  static final double[] BYTES = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

  final double[] bounds;
  final LongAdder[] counts; // per bucket, not cumulative; the last is +Inf
  final DoubleAdder sum = new DoubleAdder();

  Histogram(double[] bounds) {
    this.bounds = bounds;
    this.counts = new LongAdder[bounds.length + 1];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  void observe(double v) {
    int i = 0;
    while (i < bounds.length && v > bounds[i]) {
      i++;
    }
    counts[i].increment();
    sum.add(v);
  }
}
