package dev.bowline.proxy.config;

import dev.bowline.proxy.tls.DownstreamTls;
import java.util.Optional;

/**
 * One filter chain: its match, its transport socket and its terminal network filter.
 *
 * @param name the chain's name (may be empty)
 * @param match which connections take this chain
 * @param filter the terminal network filter (HTTP connection manager or TCP proxy)
 * @param tls the chain's {@code transport_socket} when it terminates TLS; empty is plaintext
 * @param readFilters the network filters before the terminal one (e.g. RBAC), in order
 */
public record FilterChain(
    String name,
    FilterChainMatch match,
    NetworkFilter filter,
    Optional<DownstreamTls> tls,
    java.util.List<dev.bowline.proxy.network.ReadFilter> readFilters) {
  public FilterChain {
    readFilters = java.util.List.copyOf(readFilters);
  }

  /** A chain with only its terminal network filter. */
  public FilterChain(
      String name, FilterChainMatch match, NetworkFilter filter, Optional<DownstreamTls> tls) {
    this(name, match, filter, tls, java.util.List.of());
  }

  /** A plaintext chain. */
  public FilterChain(String name, FilterChainMatch match, NetworkFilter filter) {
    this(name, match, filter, Optional.empty());
  }
}
