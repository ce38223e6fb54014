package dev.bowline.proxy.config;

import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One of the connection manager's {@code original_ip_detection_extensions}, resolved from the
 * config once: Envoy runs them in order, on a connection manager without {@code
 * use_remote_address}, until one finds the client or one rejects the request.
 */
public sealed interface OriginalIpDetection {

  /**
   * {@code envoy.http.original_ip_detection.custom_header}: the client is the IP literal in one
   * header.
   *
   * @param header {@code header_name}, lower-cased
   * @param trusted {@code allow_extension_to_set_address_as_trusted}: the address may make the
   *     request internal ({@code internal_address_config})
   * @param rejectStatus {@code reject_with_status.code}: the status of the local reply when the
   *     header is missing or not an address; 0 when unset (the next extension runs)
   */
  record CustomHeader(AsciiString header, boolean trusted, int rejectStatus)
      implements OriginalIpDetection {}

  /**
   * {@code envoy.http.original_ip_detection.xff}: the client from {@code x-forwarded-for}.
   *
   * @param hops {@code xff_num_trusted_hops}: the entry that many from the right
   * @param trustedCidrs {@code xff_trusted_cidrs.cidrs}: when not empty, only a peer in them is a
   *     proxy whose header counts, and the client is the rightmost entry not in them
   * @param skipXffAppend {@code skip_xff_append} (default true): false appends the peer
   */
  record Xff(int hops, List<CidrRange> trustedCidrs, boolean skipXffAppend)
      implements OriginalIpDetection {
    public Xff {
      trustedCidrs = List.copyOf(trustedCidrs);
    }

    /** Whether address {@code a} (4 or 16 bytes) is in {@link #trustedCidrs}. */
    public boolean trusts(byte[] a) {
      for (CidrRange r : trustedCidrs) {
        if (r.contains(a)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Envoy's {@code getLastNonTrustedAddressFromXFF}: the rightmost entry of {@code xff} not in
     * the trusted ranges, else the leftmost; null when an entry on the way is not an address.
     * Stores in {@code leftmost[0]} whether the answer is the header's first entry (only then may
     * it make the request internal).
     */
    public @Nullable InetAddress lastUntrusted(String xff, boolean[] leftmost) {
      int end = xff.length();
      while (true) {
        int comma = end == 0 ? -1 : xff.lastIndexOf(',', end - 1);
        InetAddress a = ClientAddressConfig.ipLiteral(xff, comma + 1, end);
        if (a == null) {
          return null;
        }
        if (comma < 0 || !trusts(a.getAddress())) {
          leftmost[0] = comma < 0;
          return a;
        }
        end = comma;
      }
    }
  }
}
