package dev.bowline.proxy.http.filter.stats;

import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.tls.TlsPeer;
import org.jspecify.annotations.Nullable;

/**
 * istio-proxy's {@code source_principal}, {@code destination_principal} and {@code
 * connection_security_policy} from the TLS peer of the connection a reporter looks at: the
 * downstream connection inbound ({@code connection.uri_san_peer_certificate} is the source, {@code
 * uri_san_local_certificate} the destination, {@code connection.mtls} the policy), the upstream one
 * outbound ({@code upstream.uri_san_local_certificate} the source, {@code
 * upstream.uri_san_peer_certificate} the destination; the policy is {@code unknown}, as
 * istio-proxy's outbound side never sets it). Shared by the HTTP and TCP stats filters; returns
 * strings the peer already holds, so it allocates nothing.
 */
final class TlsLabels {
  static final String MUTUAL_TLS = "mutual_tls";
  static final String NONE = "none";

  private TlsLabels() {}

  static String sourcePrincipal(Reporter reporter, @Nullable TlsPeer tls) {
    if (tls == null) {
      return PeerInfo.UNKNOWN;
    }
    return orUnknown(reporter == Reporter.SOURCE ? tls.localPrincipal() : tls.principal());
  }

  static String destinationPrincipal(Reporter reporter, @Nullable TlsPeer tls) {
    if (tls == null) {
      return PeerInfo.UNKNOWN;
    }
    return orUnknown(reporter == Reporter.SOURCE ? tls.principal() : tls.localPrincipal());
  }

  static String policy(Reporter reporter, @Nullable TlsPeer tls) {
    if (reporter == Reporter.SOURCE) {
      return PeerInfo.UNKNOWN;
    }
    return tls != null && tls.mutual() ? MUTUAL_TLS : NONE;
  }

  private static String orUnknown(String v) {
    return v.isEmpty() ? PeerInfo.UNKNOWN : v;
  }
}
