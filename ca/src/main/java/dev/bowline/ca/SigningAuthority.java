package dev.bowline.ca;

import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * The key and certificate the CA signs with, and what goes with every response. Immutable; the CA
 * swaps the whole value on rotation or reload, so a request signs with one consistent set.
 *
 * @param key the signing key
 * @param cert the signing certificate: the root itself when self-signed, an intermediate when
 *     plugged in
 * @param intermediates certificates from {@code cert} up to (not including) the root; empty when
 *     {@code cert} is a root
 * @param trustBundle every trusted root, the one above {@code cert} first
 * @param issuer {@code cert}'s subject, the issuer of every leaf
 * @param authorityKeyIdentifier the extension every leaf carries, naming {@code cert}'s key
 * @param chainPem PEM of each intermediate, the middle of every response chain
 * @param bundlePem PEM of the trust bundle, the last element of every response chain
 */
record SigningAuthority(
    PrivateKey key,
    X509Certificate cert,
    List<X509Certificate> intermediates,
    TrustBundle trustBundle,
    X500Name issuer,
    Extension authorityKeyIdentifier,
    List<String> chainPem,
    String bundlePem) {

  SigningAuthority {
    intermediates = List.copyOf(intermediates);
    chainPem = List.copyOf(chainPem);
  }

  static SigningAuthority of(
      PrivateKey key,
      X509Certificate cert,
      List<X509Certificate> intermediates,
      TrustBundle trustBundle) {
    List<String> chainPem = new ArrayList<>(intermediates.size());
    for (X509Certificate c : intermediates) {
      chainPem.add(Pem.certificate(c));
    }
    return new SigningAuthority(
        key,
        cert,
        intermediates,
        trustBundle,
        X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()),
        authorityKeyIdentifierOf(cert),
        chainPem,
        trustBundle.pem());
  }

  /** The root this authority's chain ends in: its own cert or the first bundle root. */
  X509Certificate root() {
    return trustBundle.roots().getFirst();
  }

  /** The signing cert's key identifier (from its extension, else computed as RFC 5280 method 1). */
  static byte[] subjectKeyIdentifier(X509Certificate cert) {
    byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
    try {
      if (ext != null) {
        return ASN1OctetString.getInstance(ASN1OctetString.getInstance(ext).getOctets())
            .getOctets();
      }
      return new JcaX509ExtensionUtils()
          .createSubjectKeyIdentifier(cert.getPublicKey())
          .getKeyIdentifier();
    } catch (NoSuchAlgorithmException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read the subject key identifier of " + cert.getSubjectX500Principal(), e);
    }
  }

  private static Extension authorityKeyIdentifierOf(X509Certificate cert) {
    try {
      return new Extension(
          Extension.authorityKeyIdentifier,
          false,
          Signing.authorityKeyIdentifier(subjectKeyIdentifier(cert)).getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
