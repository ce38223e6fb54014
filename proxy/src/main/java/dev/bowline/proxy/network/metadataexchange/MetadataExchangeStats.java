package dev.bowline.proxy.network.metadataexchange;

import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.util.Map;

/** istio-proxy's {@code metadata_exchange.*} counters. */
record MetadataExchangeStats(
    Counter alpnProtocolFound,
    Counter alpnProtocolNotFound,
    Counter initialHeaderNotFound,
    Counter headerNotFound,
    Counter metadataAdded) {
  static MetadataExchangeStats create(Stats s) {
    return new MetadataExchangeStats(
        c(s, "alpn_protocol_found"),
        c(s, "alpn_protocol_not_found"),
        c(s, "initial_header_not_found"),
        c(s, "header_not_found"),
        c(s, "metadata_added"));
  }

  private static Counter c(Stats s, String name) {
    return s.counter("metadata_exchange." + name, "envoy_metadata_exchange_" + name, Map.of());
  }
}
