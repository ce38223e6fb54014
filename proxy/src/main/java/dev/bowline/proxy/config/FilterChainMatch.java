package dev.bowline.proxy.config;

import java.util.List;
import java.util.OptionalInt;

/**
 * Envoy's {@code filter_chain_match}. {@link ListenerConfig#select} narrows the chains criterion by
 * criterion in Envoy's order, keeping the most specific; {@link #score} rates one criterion.
 *
 * @param serverNames SNI values, exact or {@code *.suffix}; empty matches any
 * @param transportProtocol {@code tls} or {@code raw_buffer}; empty matches any
 * @param applicationProtocols ALPN values (or those {@code http_inspector} sniffed); empty matches
 *     any
 */
public record FilterChainMatch(
    OptionalInt destinationPort,
    List<CidrRange> destinationPrefixRanges,
    List<String> serverNames,
    String transportProtocol,
    List<String> applicationProtocols,
    List<CidrRange> sourcePrefixRanges,
    List<Integer> sourcePorts) {
  public FilterChainMatch {
    destinationPrefixRanges = List.copyOf(destinationPrefixRanges);
    serverNames = List.copyOf(serverNames);
    applicationProtocols = List.copyOf(applicationProtocols);
    sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
    sourcePorts = List.copyOf(sourcePorts);
  }

  public static FilterChainMatch any() {
    return new FilterChainMatch(
        OptionalInt.empty(), List.of(), List.of(), "", List.of(), List.of(), List.of());
  }

  /** Whether matching this chain needs what the listener filters find out (SNI, ALPN, TLS). */
  public boolean needsInspection() {
    return !serverNames.isEmpty()
        || !transportProtocol.isEmpty()
        || !applicationProtocols.isEmpty();
  }

  /** Envoy's criteria, in the order it applies them. */
  enum Criterion {
    DESTINATION_PORT,
    DESTINATION_IP,
    SERVER_NAME,
    TRANSPORT_PROTOCOL,
    APPLICATION_PROTOCOL,
    SOURCE_IP,
    SOURCE_PORT
  }

  /**
   * How this chain fits {@code c} on {@code criterion}: negative excludes it, 0 means it does not
   * constrain it (a wildcard), higher is more specific.
   */
  int score(Criterion criterion, ConnectionInfo c) {
    return switch (criterion) {
      case DESTINATION_PORT ->
          destinationPort.isEmpty() ? 0 : destinationPort.getAsInt() == c.destPort() ? 1 : -1;
      case DESTINATION_IP -> prefixScore(destinationPrefixRanges, c.destIp());
      case SERVER_NAME -> serverNameScore(c.serverName());
      case TRANSPORT_PROTOCOL ->
          transportProtocol.isEmpty()
              ? 0
              : transportProtocol.equals(c.transportProtocol()) ? 1 : -1;
      case APPLICATION_PROTOCOL -> {
        if (applicationProtocols.isEmpty()) {
          yield 0;
        }
        for (String p : c.applicationProtocols()) {
          if (applicationProtocols.contains(p)) {
            yield 1;
          }
        }
        yield -1;
      }
      case SOURCE_IP -> prefixScore(sourcePrefixRanges, c.sourceIp());
      case SOURCE_PORT -> sourcePorts.isEmpty() ? 0 : sourcePorts.contains(c.sourcePort()) ? 1 : -1;
    };
  }

  private int serverNameScore(String sni) {
    if (serverNames.isEmpty()) {
      return 0;
    }
    if (sni.isEmpty()) {
      return -1;
    }
    int best = -1;
    for (String n : serverNames) {
      if (n.equalsIgnoreCase(sni)) {
        return Integer.MAX_VALUE; // an exact name beats every wildcard
      }
      if (n.startsWith("*.")
          && sni.length() > n.length() - 1
          && sni.regionMatches(true, sni.length() - (n.length() - 1), n, 1, n.length() - 1)) {
        best = Math.max(best, n.length()); // the longest suffix wins
      }
    }
    return best;
  }

  private static int prefixScore(List<CidrRange> ranges, String ip) {
    if (ranges.isEmpty()) {
      return 0;
    }
    int best = -1;
    for (CidrRange r : ranges) {
      if (r.contains(ip)) {
        best = Math.max(best, r.length() + 1); // the longest prefix wins
      }
    }
    return best;
  }
}
