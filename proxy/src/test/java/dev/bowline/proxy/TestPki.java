package dev.bowline.proxy;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway root CA issuing Istio-shaped workload certificates (SPIFFE URI SAN) for tests. */
public final class TestPki {
  public final KeyPair rootKey = ec();
  public final X509Certificate root;
  private final AtomicLong serial = new AtomicLong(1);

  public TestPki(String name) {
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
      root = sign(b);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A workload key and certificate. */
  public record Issued(KeyPair key, X509Certificate cert) {
    public String certPem() {
      return pem(cert);
    }

    public String keyPem() {
      return pem(key.getPrivate());
    }

    public String serial() {
      return cert.getSerialNumber().toString(16);
    }
  }

  public static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A leaf with one SAN (a URI when it has ':', else a DNS name), serverAuth + clientAuth. */
  public Issued issue(String san) {
    KeyPair key = ec();
    try {
      GeneralName name =
          san.contains(":")
              ? new GeneralName(GeneralName.uniformResourceIdentifier, san)
              : new GeneralName(GeneralName.dNSName, san);
      var b =
          new JcaX509v3CertificateBuilder(
                  new X500Name(root.getSubjectX500Principal().getName()),
                  BigInteger.valueOf(serial.getAndIncrement()),
                  Date.from(Instant.now().minus(Duration.ofMinutes(2))),
                  Date.from(Instant.now().plus(Duration.ofHours(2))),
                  new X500Name(""),
                  key.getPublic())
              .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(name))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }));
      return new Issued(key, sign(b));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public String rootPem() {
    return pem(root);
  }

  private X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder b) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
  }

  static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(
          o instanceof java.security.PrivateKey k
              ? new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", k.getEncoded())
              : o);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }
}
