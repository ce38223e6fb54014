package dev.bowline.proxy.tls;

import java.util.List;
import java.util.Optional;

/**
 * Envoy's {@code CommonTlsContext}, the part shared by both directions.
 *
 * @param certificates our certificate (at most one is used: the first)
 * @param trust the CAs a peer certificate must chain to; empty means the peer is not verified
 * @param sanMatchers the peer must have a subjectAltName matching one of them (if any are given)
 * @param alpn ALPN protocols, in preference order
 * @param params protocol versions, cipher suites and groups ({@code tls_params})
 */
public record CommonTls(
    List<CertificateSource> certificates,
    Optional<TrustSource> trust,
    List<SanMatcher> sanMatchers,
    List<String> alpn,
    TlsParams params) {
  public CommonTls {
    certificates = List.copyOf(certificates);
    sanMatchers = List.copyOf(sanMatchers);
    alpn = List.copyOf(alpn);
  }

  /** A context with the default {@link TlsParams}. */
  public CommonTls(
      List<CertificateSource> certificates,
      Optional<TrustSource> trust,
      List<SanMatcher> sanMatchers,
      List<String> alpn) {
    this(certificates, trust, sanMatchers, alpn, TlsParams.DEFAULT);
  }

  /** The SDS secrets this context needs. */
  public List<SecretKey> sdsSecrets() {
    List<SecretKey> out = new java.util.ArrayList<>();
    for (CertificateSource c : certificates) {
      if (c instanceof CertificateSource.Sds s) {
        out.add(new SecretKey(s.source(), s.name()));
      }
    }
    if (trust.orElse(null) instanceof TrustSource.Sds s) {
      out.add(new SecretKey(s.source(), s.name()));
    }
    return out;
  }
}
