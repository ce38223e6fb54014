package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's {@code listener.<address>.*} stats.
 *
 * @param downstreamCxTotal connections accepted
 * @param noFilterChainMatch connections no filter chain matched
 * @param downstreamCxDestroy connections that ended (Envoy counts it as its active connection goes)
 * @param downstreamCxActive the gauge {@code downstream_cx_active}: connections open now
 * @param downstreamCxLengthMs the histogram {@code downstream_cx_length_ms}: how long each
 *     connection lasted
 */
public record ListenerStats(
    Counter downstreamCxTotal,
    Counter noFilterChainMatch,
    Counter downstreamCxDestroy,
    LongAdder downstreamCxActive,
    Histogram downstreamCxLengthMs) {
  static ListenerStats create(Stats s, String address) {
    Map<String, String> tags = Map.of("envoy_listener_address", address);
    String p = "listener." + address + ".";
    LongAdder active = new LongAdder();
    s.gauge(p + "downstream_cx_active", "envoy_listener_downstream_cx_active", tags, active::sum);
    return new ListenerStats(
        s.counter(p + "downstream_cx_total", "envoy_listener_downstream_cx_total", tags),
        s.counter(p + "no_filter_chain_match", "envoy_listener_no_filter_chain_match", tags),
        s.counter(p + "downstream_cx_destroy", "envoy_listener_downstream_cx_destroy", tags),
        active,
        s.histogram(p + "downstream_cx_length_ms", "envoy_listener_downstream_cx_length_ms", tags));
  }

  /** A connection opened now: {@code downstream_cx_total} and the gauge. */
  public void opened() {
    downstreamCxTotal.inc();
    downstreamCxActive.increment();
  }

  /** A connection opened at {@code startNanos} ({@link System#nanoTime}) ended now. */
  public void closed(long startNanos) {
    downstreamCxDestroy.inc();
    downstreamCxActive.decrement();
    downstreamCxLengthMs.record((System.nanoTime() - startNanos) / 1_000_000);
  }
}
