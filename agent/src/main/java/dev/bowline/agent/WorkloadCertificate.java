package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import dev.bowline.ca.TrustBundle;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A validated workload certificate with its key: what SDS serves as {@code default} (chain + key)
 * and {@code ROOTCA} (bundle).
 *
 * @param privateKey the key the agent generated; never leaves the agent except over SDS
 * @param chain the leaf first, then any intermediates (never the roots)
 * @param bundle the roots the CA returned with it (the trust bundle)
 * @param receivedAt when the agent received it; rotation is scheduled from here to expiry
 */
public record WorkloadCertificate(
    PrivateKey privateKey, List<X509Certificate> chain, TrustBundle bundle, Instant receivedAt) {

  /** Copies the chain; it must hold at least the leaf. */
  public WorkloadCertificate {
    requireNonNull(privateKey, "privateKey");
    chain = List.copyOf(requireNonNull(chain, "chain"));
    requireNonNull(bundle, "bundle");
    requireNonNull(receivedAt, "receivedAt");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("chain: must hold at least the leaf");
    }
  }

  /** The workload's own certificate. */
  public X509Certificate leaf() {
    return chain.getFirst();
  }

  /** The leaf's end of validity. */
  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  /** The leaf's serial number in hex, for logs. */
  public String serial() {
    return leaf().getSerialNumber().toString(16);
  }

  /** Leaf and intermediates as concatenated PEM (Envoy's {@code certificate_chain}). */
  public String chainPem() {
    return Pem.certificates(chain);
  }

  /** The private key as PKCS#8 PEM (Envoy's {@code private_key}). */
  public String privateKeyPem() {
    return Pem.encode("PRIVATE KEY", privateKey.getEncoded());
  }

  /** Never prints the key. */
  @Override
  public String toString() {
    return "WorkloadCertificate[serial="
        + serial()
        + ", subjectAltNames="
        + Pem.uris(leaf())
        + ", notAfter="
        + notAfter()
        + "]";
  }
}
