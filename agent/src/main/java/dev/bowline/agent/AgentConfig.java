package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import dev.bowline.ca.WorkloadIdentity;
import java.time.Duration;

/**
 * What one workload's agent needs to get its certificate.
 *
 * @param identity the SPIFFE identity to ask for
 * @param caHost the CA's host (Istio: istiod)
 * @param caPort the CA's port (Istio: 15012)
 * @param caServerName the name the CA's certificate must carry (TLS authority), e.g. {@code
 *     istiod.istio-system.svc}
 * @param caTrust the roots the CA's serving certificate must chain to (Istio's {@code
 *     root-cert.pem}), read before each call; the agent also trusts the bundle that came with its
 *     current certificate
 * @param token the bearer token the runner vouches for ({@code authorization: Bearer <token>})
 * @param requestedTtl the lifetime to ask for; zero asks for the CA's default (24 h)
 * @param keyAlgorithm the key to generate for each certificate
 * @param rotationFraction rotate when this fraction of the lifetime has passed (0.8)
 * @param jitterFraction rotate up to this fraction of the lifetime earlier, at random (0.05), so
 *     workloads started together don't all renew at once
 * @param retryInitial the first retry delay after a failed request; doubles per failure
 * @param retryMax the longest retry delay
 * @param caTimeout the deadline of one CA call
 */
public record AgentConfig(
    WorkloadIdentity identity,
    String caHost,
    int caPort,
    String caServerName,
    CaTrust caTrust,
    String token,
    Duration requestedTtl,
    KeyAlgorithm keyAlgorithm,
    double rotationFraction,
    double jitterFraction,
    Duration retryInitial,
    Duration retryMax,
    Duration caTimeout) {

  /** The name Istio's agents expect the CA (istiod) to present. */
  public static final String ISTIOD_NAME = "istiod.istio-system.svc";

  /** Checks each field and names the one that is wrong. */
  public AgentConfig {
    requireNonNull(identity, "identity");
    requireNonNull(caHost, "caHost");
    requireNonNull(caServerName, "caServerName");
    requireNonNull(caTrust, "caTrust");
    requireNonNull(token, "token");
    requireNonNull(requestedTtl, "requestedTtl");
    requireNonNull(keyAlgorithm, "keyAlgorithm");
    requireNonNull(retryInitial, "retryInitial");
    requireNonNull(retryMax, "retryMax");
    requireNonNull(caTimeout, "caTimeout");
    if (caPort < 1 || caPort > 65535) {
      throw new IllegalArgumentException("AgentConfig.caPort: must be 1-65535, was " + caPort);
    }
    if (requestedTtl.isNegative()) {
      throw new IllegalArgumentException(
          "AgentConfig.requestedTtl: must be zero (CA default) or positive, was " + requestedTtl);
    }
    if (!(rotationFraction > 0 && rotationFraction < 1)) {
      throw new IllegalArgumentException(
          "AgentConfig.rotationFraction: must be in (0, 1), was " + rotationFraction);
    }
    if (!(jitterFraction >= 0 && jitterFraction < rotationFraction)) {
      throw new IllegalArgumentException(
          "AgentConfig.jitterFraction: must be in [0, rotationFraction), was " + jitterFraction);
    }
    if (retryInitial.isNegative() || retryInitial.isZero()) {
      throw new IllegalArgumentException(
          "AgentConfig.retryInitial: must be positive, was " + retryInitial);
    }
    if (retryMax.compareTo(retryInitial) < 0) {
      throw new IllegalArgumentException(
          "AgentConfig.retryMax: must be >= retryInitial (" + retryInitial + "), was " + retryMax);
    }
    if (caTimeout.isNegative() || caTimeout.isZero()) {
      throw new IllegalArgumentException(
          "AgentConfig.caTimeout: must be positive, was " + caTimeout);
    }
  }

  /**
   * Istio-like defaults: CA's default lifetime, ECDSA P-256, rotation at 80% with 5% jitter,
   * retries from 1 s doubling to 60 s, 10 s per CA call, the CA named {@value #ISTIOD_NAME}.
   */
  public static AgentConfig defaults(
      WorkloadIdentity identity, String caHost, int caPort, CaTrust caTrust, String token) {
    return new AgentConfig(
        identity,
        caHost,
        caPort,
        ISTIOD_NAME,
        caTrust,
        token,
        Duration.ZERO,
        KeyAlgorithm.EC_P256,
        0.8,
        0.05,
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        Duration.ofSeconds(10));
  }

  /** Like the record's, with the token redacted (configs end up in logs). */
  @Override
  public String toString() {
    return "AgentConfig[identity="
        + identity
        + ", ca="
        + caHost
        + ":"
        + caPort
        + " ("
        + caServerName
        + "), caTrust="
        + caTrust
        + ", token=<redacted>, requestedTtl="
        + requestedTtl
        + ", keyAlgorithm="
        + keyAlgorithm
        + ", rotationFraction="
        + rotationFraction
        + ", jitterFraction="
        + jitterFraction
        + ", retry="
        + retryInitial
        + ".."
        + retryMax
        + ", caTimeout="
        + caTimeout
        + "]";
  }

  /** This config asking for another certificate lifetime. */
  public AgentConfig withRequestedTtl(Duration ttl) {
    return new AgentConfig(
        identity,
        caHost,
        caPort,
        caServerName,
        caTrust,
        token,
        ttl,
        keyAlgorithm,
        rotationFraction,
        jitterFraction,
        retryInitial,
        retryMax,
        caTimeout);
  }

  /** This config with another key algorithm. */
  public AgentConfig withKeyAlgorithm(KeyAlgorithm algorithm) {
    return new AgentConfig(
        identity,
        caHost,
        caPort,
        caServerName,
        caTrust,
        token,
        requestedTtl,
        algorithm,
        rotationFraction,
        jitterFraction,
        retryInitial,
        retryMax,
        caTimeout);
  }

  /** This config with other retry delays. */
  public AgentConfig withRetry(Duration initial, Duration max) {
    return new AgentConfig(
        identity,
        caHost,
        caPort,
        caServerName,
        caTrust,
        token,
        requestedTtl,
        keyAlgorithm,
        rotationFraction,
        jitterFraction,
        initial,
        max,
        caTimeout);
  }
}
