package dev.bowline.ca;

import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;

/**
 * The CA server's own TLS certificate, signed by the CA for the configured DNS names and IPs. It is
 * re-issued at half its lifetime and whenever the CA starts signing under another key (a root
 * rotation or reload), checked at each handshake.
 */
final class ServingKeyManager extends X509ExtendedKeyManager {
  private static final Duration LIFETIME = Duration.ofHours(24);

  private record Serving(
      String alias,
      PrivateKey key,
      X509Certificate[] chain,
      Instant renewAt,
      SigningAuthority by) {}

  private final CertificateAuthority ca;
  private final List<String> names;
  private final AtomicReference<Serving> current = new AtomicReference<>();
  private final AtomicReference<Serving> previous = new AtomicReference<>();
  private long generation;

  ServingKeyManager(CertificateAuthority ca, List<String> names) {
    this.ca = ca;
    this.names = List.copyOf(names);
    current.set(issue());
  }

  /** The certificate served now; re-issued first when due. */
  X509Certificate[] servingChain() {
    return fresh().chain();
  }

  private Serving fresh() {
    Serving s = current.get();
    if (ca.clock().instant().isBefore(s.renewAt()) && s.by() == ca.authority()) {
      return s;
    }
    synchronized (this) {
      s = current.get();
      if (ca.clock().instant().isBefore(s.renewAt()) && s.by() == ca.authority()) {
        return s;
      }
      Serving next = issue();
      previous.set(s);
      current.set(next);
      return next;
    }
  }

  private Serving issue() {
    SigningAuthority a = ca.authority();
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), ca.random());
      KeyPair pair = gen.generateKeyPair();
      List<GeneralName> sans = new ArrayList<>();
      for (String n : names) {
        sans.add(
            isIpLiteral(n)
                ? new GeneralName(GeneralName.iPAddress, n)
                : new GeneralName(GeneralName.dNSName, n));
      }
      Instant now = ca.clock().instant();
      Instant notAfter = now.plus(LIFETIME);
      byte[] serial = new byte[16];
      ca.random().nextBytes(serial);
      serial[0] &= 0x7f;
      X509v3CertificateBuilder b =
          new X509v3CertificateBuilder(
                  a.issuer(),
                  new BigInteger(1, serial),
                  Date.from(now.minus(Duration.ofMinutes(2))),
                  Date.from(notAfter),
                  new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                  SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded()))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
              .addExtension(a.authorityKeyIdentifier())
              .addExtension(
                  Extension.subjectAlternativeName,
                  true,
                  new GeneralNames(sans.toArray(GeneralName[]::new)));
      X509Certificate leaf =
          new JcaX509CertificateConverter()
              .getCertificate(b.build(ca.signing().contentSigner(a.key(), ca.random())));
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(leaf);
      chain.addAll(a.intermediates());
      Instant renewAt = now.plus(LIFETIME.dividedBy(2));
      return new Serving(
          "bowline-ca-" + (++generation),
          pair.getPrivate(),
          chain.toArray(X509Certificate[]::new),
          renewAt,
          a);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue the CA server's certificate: " + e, e);
    }
  }

  private static boolean isIpLiteral(String name) {
    if (name.indexOf(':') >= 0) {
      return true;
    }
    return name.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return pick(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return pick(keyType);
  }

  private String pick(String keyType) {
    Serving s = fresh();
    String alg = s.key().getAlgorithm();
    return keyType.equals(alg) || (keyType.startsWith("EC") && alg.equals("EC")) ? s.alias() : null;
  }

  private Serving byAlias(String alias) {
    Serving s = current.get();
    if (s.alias().equals(alias)) {
      return s;
    }
    Serving p = previous.get();
    return p != null && p.alias().equals(alias) ? p : s;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return byAlias(alias).chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return byAlias(alias).key();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {current.get().alias()};
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[0];
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
