package dev.bowline.agent;

import java.io.StringReader;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/** A throwaway root that signs whatever a test wants: the misbehaving CA's signer. */
final class TestIssuer {
  final KeyPair rootKey = ec();
  final X509Certificate root;
  private final AtomicLong serial = new AtomicLong(1);

  TestIssuer(String name) {
    try {
      X500Name subject = new X500Name("CN=" + name);
      var b =
          new JcaX509v3CertificateBuilder(
                  subject,
                  BigInteger.valueOf(serial.getAndIncrement()),
                  Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                  Date.from(Instant.now().plus(Duration.ofDays(1))),
                  subject,
                  rootKey.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      root =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A leaf for {@code key} with one subjectAltName: a URI, or a DNS name when it has no ':'. */
  X509Certificate leaf(PublicKey key, String san) {
    return leaf(key, san, false);
  }

  /** As {@link #leaf(PublicKey, String)}, marked a CA when {@code ca}. */
  X509Certificate leaf(PublicKey key, String san, boolean ca) {
    try {
      GeneralName name =
          san.contains(":")
              ? new GeneralName(GeneralName.uniformResourceIdentifier, san)
              : new GeneralName(GeneralName.dNSName, san);
      var b =
          new JcaX509v3CertificateBuilder(
                  root,
                  BigInteger.valueOf(serial.getAndIncrement()),
                  Date.from(Instant.now().minus(Duration.ofMinutes(2))),
                  Date.from(Instant.now().plus(Duration.ofHours(1))),
                  new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                  key)
              .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(name))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The public key of a PEM CSR. */
  static PublicKey csrKey(String pem) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      return new JcaPKCS10CertificationRequest((PKCS10CertificationRequest) p.readObject())
          .getPublicKey();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
