package dev.bowline.proxy.http.filter.stats;

import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/** One label set's instruments: the counter and the three histograms. */
final class Series {
  /** Per {@link Metric} ordinal: the label text ({@code a="x",b="y"}), null when dropped. */
  final @Nullable String[] labels;

  final LongAdder requests = new LongAdder();
  final Histogram duration = new Histogram(Histogram.DURATION_MS);
  final Histogram requestBytes = new Histogram(Histogram.BYTES);
  final Histogram responseBytes = new Histogram(Histogram.BYTES);

  Series(@Nullable String[] labels) {
    this.labels = labels;
  }

  void record(double durationMs, long reqBytes, long respBytes) {
    requests.increment();
    duration.observe(durationMs);
    requestBytes.observe(reqBytes);
    responseBytes.observe(respBytes);
  }
}
