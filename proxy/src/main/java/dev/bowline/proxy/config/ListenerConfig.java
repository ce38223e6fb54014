package dev.bowline.proxy.config;

import java.util.List;
import java.util.Optional;

/**
 * A listener: where it binds and how a new connection finds its filter chain.
 *
 * @param name the listener's xDS name
 * @param address bind address
 * @param filterChains chains in config order; the first whose match fits wins
 * @param defaultChain used when no chain matches
 * @param bindToPort false for listeners reached only by hand-off
 */
public record ListenerConfig(
    String name,
    SocketAddr address,
    List<FilterChain> filterChains,
    Optional<FilterChain> defaultChain,
    boolean bindToPort) {
  public ListenerConfig {
    filterChains = List.copyOf(filterChains);
  }

  /**
   * The chain for a connection to {@code destIp:destPort} from {@code sourceIp:sourcePort}: the
   * first chain whose match fits, else the default chain.
   */
  public Optional<FilterChain> select(
      String destIp, int destPort, String sourceIp, int sourcePort) {
    for (FilterChain c : filterChains) {
      if (c.match().matches(destIp, destPort, sourceIp, sourcePort)) {
        return Optional.of(c);
      }
    }
    return defaultChain;
  }

  /** Envoy's stat name for this listener's address, e.g. {@code 127.0.0.1_8080}. */
  public String statPrefix() {
    return address.ip() + "_" + address.port();
  }
}
