package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The roots a workload must trust: during a rotation, the new root and the old one both.
 *
 * @param roots the trusted root certificates, the one the CA signs under first
 */
public record TrustBundle(List<X509Certificate> roots) {
  /** Copies the list; it must not be empty. */
  public TrustBundle {
    roots = List.copyOf(requireNonNull(roots, "roots"));
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("a trust bundle needs at least one root");
    }
  }

  /** The roots as concatenated PEM blocks, as Istio's {@code root-cert.pem} and SDS ROOTCA hold. */
  public String pem() {
    return Pem.certificates(roots);
  }
}
