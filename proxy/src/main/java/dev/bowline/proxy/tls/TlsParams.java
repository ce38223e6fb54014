package dev.bowline.proxy.tls;

import java.util.List;

/**
 * Envoy's {@code TlsParameters}: the protocol versions, TLS 1.2 cipher suites and key-exchange
 * groups a context offers or accepts. Empty lists and {@link #DEFAULT} versions mean the provider's
 * defaults (TLS 1.2 to 1.3). TLS 1.3 suites are not configurable (BoringSSL's, and Envoy's, rule).
 *
 * @param minVersion {@code TLSv1.2} or {@code TLSv1.3}
 * @param maxVersion {@code TLSv1.2} or {@code TLSv1.3}, not below {@code minVersion}
 * @param cipherSuites TLS 1.2 suites by their IANA (JDK) names, in preference order
 * @param ecdhCurves Envoy's group names ({@code X25519}, {@code P-256}, {@code P-384}, {@code
 *     P-521}), in preference order
 */
public record TlsParams(
    String minVersion, String maxVersion, List<String> cipherSuites, List<String> ecdhCurves) {
  static final List<String> VERSIONS = List.of("TLSv1.2", "TLSv1.3");

  /** TLS 1.2 and 1.3 with the provider's suites and groups. */
  public static final TlsParams DEFAULT = new TlsParams("TLSv1.2", "TLSv1.3", List.of(), List.of());

  public TlsParams {
    if (!VERSIONS.contains(minVersion) || !VERSIONS.contains(maxVersion)) {
      throw new IllegalArgumentException(
          "protocol versions must be TLSv1.2 or TLSv1.3: " + minVersion + ", " + maxVersion);
    }
    if (VERSIONS.indexOf(maxVersion) < VERSIONS.indexOf(minVersion)) {
      throw new IllegalArgumentException(
          "maximum protocol version " + maxVersion + " is below the minimum " + minVersion);
    }
    cipherSuites = List.copyOf(cipherSuites);
    ecdhCurves = List.copyOf(ecdhCurves);
  }

  /** The protocols enabled, newest first. */
  List<String> protocols() {
    return VERSIONS
        .subList(VERSIONS.indexOf(minVersion), VERSIONS.indexOf(maxVersion) + 1)
        .reversed();
  }
}
