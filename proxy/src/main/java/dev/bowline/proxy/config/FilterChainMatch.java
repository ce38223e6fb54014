package dev.bowline.proxy.config;

import java.util.List;
import java.util.OptionalInt;

/**
 * Envoy's {@code filter_chain_match} as far as a plaintext connection can be told apart:
 * destination port, destination and source prefix ranges, source ports. A chain that requires TLS
 * ({@code transport_protocol: tls}, {@code server_names}) or sniffed application protocols never
 * matches: the proxy has no TLS and runs no inspectors yet, so every connection is {@code
 * raw_buffer} with no application protocol, exactly what Envoy would see without its inspectors.
 */
public record FilterChainMatch(
    OptionalInt destinationPort,
    List<CidrRange> destinationPrefixRanges,
    List<CidrRange> sourcePrefixRanges,
    List<Integer> sourcePorts,
    boolean needsInspection) {
  public FilterChainMatch {
    destinationPrefixRanges = List.copyOf(destinationPrefixRanges);
    sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
    sourcePorts = List.copyOf(sourcePorts);
  }

  public static FilterChainMatch any() {
    return new FilterChainMatch(OptionalInt.empty(), List.of(), List.of(), List.of(), false);
  }

  boolean matches(String destIp, int destPort, String sourceIp, int sourcePort) {
    if (needsInspection) {
      return false;
    }
    if (destinationPort.isPresent() && destinationPort.getAsInt() != destPort) {
      return false;
    }
    if (!sourcePorts.isEmpty() && !sourcePorts.contains(sourcePort)) {
      return false;
    }
    return inAny(destinationPrefixRanges, destIp) && inAny(sourcePrefixRanges, sourceIp);
  }

  private static boolean inAny(List<CidrRange> ranges, String ip) {
    if (ranges.isEmpty()) {
      return true;
    }
    for (CidrRange r : ranges) {
      if (r.contains(ip)) {
        return true;
      }
    }
    return false;
  }
}
