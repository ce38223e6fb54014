package dev.bowline.proxy.stats;

import java.util.Map;

/** Envoy's {@code listener.<address>.*} counters. */
public record ListenerStats(Counter downstreamCxTotal, Counter noFilterChainMatch) {
  static ListenerStats create(Stats s, String address) {
    Map<String, String> tags = Map.of("envoy_listener_address", address);
    String p = "listener." + address + ".";
    return new ListenerStats(
        s.counter(p + "downstream_cx_total", "envoy_listener_downstream_cx_total", tags),
        s.counter(p + "no_filter_chain_match", "envoy_listener_no_filter_chain_match", tags));
  }
}
