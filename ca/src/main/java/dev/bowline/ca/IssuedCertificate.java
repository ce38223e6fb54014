package dev.bowline.ca;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/**
 * A signed workload certificate with its chain, as the CSR API answers it.
 *
 * @param certChain PEM strings: the leaf first, then any intermediates, the trust bundle (all
 *     trusted roots) last
 * @param identities the SPIFFE IDs in the leaf's subjectAltName
 * @param serialNumber the leaf's serial number
 * @param notBefore start of validity (backdated two minutes for clock skew, as Istio does)
 * @param notAfter end of validity
 */
public record IssuedCertificate(
    List<String> certChain,
    List<String> identities,
    BigInteger serialNumber,
    Instant notBefore,
    Instant notAfter) {

  /** Copies the lists. */
  public IssuedCertificate {
    certChain = List.copyOf(certChain);
    identities = List.copyOf(identities);
  }

  /** The leaf certificate's PEM. */
  public String leafPem() {
    return certChain.getFirst();
  }

  /** The trusted roots' PEM (the last element of the chain). */
  public String rootsPem() {
    return certChain.getLast();
  }
}
