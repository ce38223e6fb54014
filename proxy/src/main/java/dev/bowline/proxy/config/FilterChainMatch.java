package dev.bowline.proxy.config;

import java.util.List;
import java.util.OptionalInt;

/**
 * The subset of Envoy's {@code filter_chain_match} the proxy evaluates: destination port and source
 * prefix ranges. An empty match takes every connection.
 */
public record FilterChainMatch(OptionalInt destinationPort, List<CidrRange> sourcePrefixRanges) {
  public FilterChainMatch {
    sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
  }

  public static FilterChainMatch any() {
    return new FilterChainMatch(OptionalInt.empty(), List.of());
  }

  boolean matches(int destPort, String sourceIp) {
    if (destinationPort.isPresent() && destinationPort.getAsInt() != destPort) {
      return false;
    }
    if (sourcePrefixRanges.isEmpty()) {
      return true;
    }
    for (CidrRange r : sourcePrefixRanges) {
      if (r.contains(sourceIp)) {
        return true;
      }
    }
    return false;
  }
}
