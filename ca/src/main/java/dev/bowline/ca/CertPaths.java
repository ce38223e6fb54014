package dev.bowline.ca;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** PKIX validation of a certificate path against roots (no revocation: the mesh has no CRLs). */
final class CertPaths {
  private CertPaths() {}

  /**
   * Validates {@code path} (leaf first, without the root) up to one of {@code roots} as of {@code
   * at}.
   *
   * @throws java.security.cert.CertPathValidatorException if it does not lead to one, with the
   *     reason and the index of the failing certificate
   */
  static PKIXCertPathValidatorResult validate(
      List<X509Certificate> path, List<X509Certificate> roots, Instant at)
      throws GeneralSecurityException {
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate r : roots) {
      anchors.add(new TrustAnchor(r, null));
    }
    PKIXParameters params = new PKIXParameters(anchors);
    params.setRevocationEnabled(false);
    params.setDate(Date.from(at));
    return (PKIXCertPathValidatorResult)
        CertPathValidator.getInstance("PKIX")
            .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
  }
}
