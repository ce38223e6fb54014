package dev.bowline.proxy.http.filter.stats;

import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/** One TCP label set's four counters. */
final class TcpSeries {
  /** Per {@link TcpMetric} ordinal: the label text, null when dropped. */
  final @Nullable String[] labels;

  final LongAdder sent = new LongAdder();
  final LongAdder received = new LongAdder();
  final LongAdder opened = new LongAdder();
  final LongAdder closed = new LongAdder();

  TcpSeries(@Nullable String[] labels) {
    this.labels = labels;
  }

  long value(TcpMetric m) {
    return switch (m) {
      case SENT_BYTES -> sent.sum();
      case RECEIVED_BYTES -> received.sum();
      case CONNECTIONS_OPENED -> opened.sum();
      case CONNECTIONS_CLOSED -> closed.sum();
    };
  }
}
