package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * What the CA signs and how: immutable, checked on construction.
 *
 * @param trustDomain the mesh's trust domain in issued SPIFFE IDs (Istio's default {@code
 *     cluster.local})
 * @param root where the signing key comes from
 * @param defaultTtl lifetime of a workload certificate when the request asks for none (24 h, as
 *     Istio's {@code DEFAULT_WORKLOAD_CERT_TTL})
 * @param maxTtl the longest lifetime a request may ask for; longer requests are refused, as Istio's
 *     {@code MAX_WORKLOAD_CERT_TTL} (90 days)
 * @param rootTtl lifetime of a self-signed root (10 years, as Istio's {@code
 *     CITADEL_SELF_SIGNED_CA_ CERT_TTL})
 * @param maxCsrBytes the largest PEM CSR accepted; RSA-4096 CSRs are under 2 KiB
 */
public record CaConfig(
    String trustDomain,
    RootSource root,
    Duration defaultTtl,
    Duration maxTtl,
    Duration rootTtl,
    int maxCsrBytes) {

  /** Istio's default trust domain. */
  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

  /** Checks every field and names the one that is wrong. */
  public CaConfig {
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(root, "root");
    requireNonNull(defaultTtl, "defaultTtl");
    requireNonNull(maxTtl, "maxTtl");
    requireNonNull(rootTtl, "rootTtl");
    try {
      new WorkloadIdentity(trustDomain, "x", "x"); // checks the trust domain's characters
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("CaConfig.trustDomain: " + e.getMessage(), e);
    }
    if (defaultTtl.isNegative() || defaultTtl.isZero()) {
      throw new IllegalArgumentException(
          "CaConfig.defaultTtl: must be positive, was " + defaultTtl);
    }
    if (maxTtl.compareTo(defaultTtl) < 0) {
      throw new IllegalArgumentException(
          "CaConfig.maxTtl: must be >= defaultTtl (" + defaultTtl + "), was " + maxTtl);
    }
    if (rootTtl.compareTo(maxTtl) <= 0) {
      throw new IllegalArgumentException(
          "CaConfig.rootTtl: must be longer than maxTtl (" + maxTtl + "), was " + rootTtl);
    }
    if (maxCsrBytes < 1024) {
      throw new IllegalArgumentException(
          "CaConfig.maxCsrBytes: must be >= 1024, was " + maxCsrBytes);
    }
  }

  /**
   * Istio's defaults (trust domain {@code cluster.local}, 24 h, at most 90 days) for {@code root}.
   */
  public static CaConfig defaults(RootSource root) {
    return new CaConfig(
        DEFAULT_TRUST_DOMAIN,
        root,
        Duration.ofHours(24),
        Duration.ofDays(90),
        Duration.ofDays(3650),
        32 * 1024);
  }

  /** This config with another trust domain. */
  public CaConfig withTrustDomain(String trustDomain) {
    return new CaConfig(trustDomain, root, defaultTtl, maxTtl, rootTtl, maxCsrBytes);
  }

  /** This config with other workload certificate lifetimes. */
  public CaConfig withTtls(Duration defaultTtl, Duration maxTtl) {
    return new CaConfig(trustDomain, root, defaultTtl, maxTtl, rootTtl, maxCsrBytes);
  }
}
