package dev.bowline.proxy.config;

import java.net.InetAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How the connection manager finds the original client and decides whether a request is internal
 * (Envoy's {@code mutateRequestHeaders}), resolved from the config once.
 *
 * @param xffNumTrustedHops {@code xff_num_trusted_hops}: how many proxies in front of this one
 *     appended to {@code x-forwarded-for}; the client is that many entries from the right (one
 *     fewer with {@code use_remote_address}, which appends the peer itself)
 * @param internalRanges {@code internal_address_config.cidr_ranges}: the addresses whose requests
 *     are internal. Empty (the default, and Envoy's since 1.36, when the {@code
 *     explicit_internal_address_config} guard went) means no IP address is internal
 * @param internalUnixSockets {@code internal_address_config.unix_sockets}: a Unix-socket peer is
 *     internal
 * @param detections {@code original_ip_detection_extensions}, in order (never with {@code
 *     use_remote_address} nor trusted hops); empty: Envoy's default, x-forwarded-for with {@code
 *     xffNumTrustedHops}
 */
public record ClientAddressConfig(
    int xffNumTrustedHops,
    List<CidrRange> internalRanges,
    boolean internalUnixSockets,
    List<OriginalIpDetection> detections) {
  /** Envoy's defaults: no trusted hops, nothing internal. */
  public static final ClientAddressConfig DEFAULTS =
      new ClientAddressConfig(0, List.of(), false, List.of());

  public ClientAddressConfig {
    internalRanges = List.copyOf(internalRanges);
    detections = List.copyOf(detections);
  }

  /** Whether {@code original_ip_detection_extensions} find the client. */
  public boolean detects() {
    return !detections.isEmpty();
  }

  /** Whether any address can be internal: when not, the request path skips the decision. */
  public boolean anyInternal() {
    return internalUnixSockets || !internalRanges.isEmpty();
  }

  /** Whether IP address {@code a} (4 or 16 bytes) is internal. */
  public boolean isInternal(byte[] a) {
    for (CidrRange r : internalRanges) {
      if (r.contains(a)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Envoy's {@code getLastAddressFromXFF}: the {@code x-forwarded-for} entry {@code skip} entries
   * from the right, trimmed, when it is an IPv4 or IPv6 literal; null otherwise (no header, too few
   * entries, not an address).
   */
  public static @Nullable InetAddress xffEntry(@Nullable String xff, int skip) {
    if (xff == null) {
      return null;
    }
    int end = xff.length();
    for (int i = 0; i < skip; i++) {
      int c = end == 0 ? -1 : xff.lastIndexOf(',', end - 1);
      if (c < 0) {
        return null;
      }
      end = c;
    }
    int start = end == 0 ? 0 : xff.lastIndexOf(',', end - 1) + 1;
    return ipLiteral(xff, start, end);
  }

  /**
   * Envoy's {@code parseInternetAddressNoThrow} of {@code s} from {@code start} to {@code end},
   * blanks around it trimmed: an IPv4 (a.b.c.d) or IPv6 literal, else null.
   */
  public static @Nullable InetAddress ipLiteral(String s, int start, int end) {
    while (start < end && isSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && isSpace(s.charAt(end - 1))) {
      end--;
    }
    if (start == end) {
      return null;
    }
    char c0 = s.charAt(start);
    if (!(Character.digit(c0, 16) >= 0 || c0 == ':')) {
      return null;
    }
    boolean v6 = false;
    int dots = 0;
    for (int i = start; i < end; i++) {
      char c = s.charAt(i);
      if (c == ':') {
        v6 = true;
      } else if (c == '.') {
        dots++;
      }
    }
    if (!v6 && dots != 3) {
      return null; // inet_pton's IPv4 form only: a.b.c.d
    }
    try {
      return InetAddress.ofLiteral(s.substring(start, end));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }
}
