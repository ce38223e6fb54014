package dev.bowline.api.validation;

import dev.bowline.api.model.KubernetesSecret;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.jspecify.annotations.Nullable;

/**
 * Kubernetes Secrets holding TLS material (the {@code credentialName} of a Gateway): values must be
 * base64, a {@code kubernetes.io/tls} Secret needs {@code tls.crt} and {@code tls.key}, the
 * certificate chain and CA bundle must be PEM certificates, the key a PEM private key that belongs
 * to the chain's first certificate. Messages name the data key, never a value.
 */
final class SecretRules {
  private SecretRules() {}

  static void check(Report r, KubernetesSecret s) {
    for (Map.Entry<String, String> e : s.data().entrySet()) {
      try {
        Base64.getDecoder().decode(e.getValue().replaceAll("\\s", ""));
      } catch (IllegalArgumentException ex) {
        r.error("data." + e.getKey(), "is not valid base64");
      }
    }
    if ("kubernetes.io/tls".equals(s.type())) {
      var d = s.decoded();
      for (String k : List.of("tls.crt", "tls.key")) {
        if (!d.containsKey(k)) {
          r.error("data." + k, "is required for type kubernetes.io/tls");
        }
      }
    }
    s.certificate()
        .ifPresent(
            ck -> {
              List<X509Certificate> chain = certificates(r, path(s, ck.chainKey()), ck.chainPem());
              PrivateKey key = privateKey(r, path(s, ck.keyKey()), ck.keyPem());
              if (!chain.isEmpty() && key != null && !matches(key, chain.getFirst())) {
                r.error(
                    path(s, ck.keyKey()),
                    "private key does not belong to the certificate in " + ck.chainKey());
              }
            });
    s.caCertificates().ifPresent(ca -> certificates(r, path(s, ca.key()), ca.pem()));
  }

  private static String path(KubernetesSecret s, String key) {
    return (s.stringData().containsKey(key) ? "stringData." : "data.") + key;
  }

  /** The PEM certificates in {@code pem}; an error (and none) when there are none or one is bad. */
  static List<X509Certificate> certificates(Report r, String path, String pem) {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      Object o;
      while ((o = p.readObject()) != null) {
        if (o instanceof org.bouncycastle.cert.X509CertificateHolder h) {
          out.add(
              (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(h.getEncoded())));
        } else {
          r.error(path, "holds a PEM block that is not a CERTIFICATE");
          return List.of();
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      r.error(path, "is not a PEM certificate: " + e.getClass().getSimpleName());
      return List.of();
    }
    if (out.isEmpty()) {
      r.error(path, "holds no PEM certificate");
    }
    return out;
  }

  private static @Nullable PrivateKey privateKey(Report r, String path, String pem) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      PrivateKeyInfo info =
          switch (o) {
            case PEMKeyPair kp -> kp.getPrivateKeyInfo();
            case PrivateKeyInfo i -> i;
            case null -> null;
            default -> null;
          };
      PrivateKey key = info == null ? null : jdkKey(info.getEncoded());
      if (key == null) {
        r.error(path, "holds no PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
      }
      return key;
    } catch (IOException | RuntimeException e) {
      r.error(path, "is not a PEM private key: " + e.getClass().getSimpleName());
      return null;
    }
  }

  /** The key in the JDK's own providers (PKCS#8), whatever its algorithm. */
  private static @Nullable PrivateKey jdkKey(byte[] pkcs8) {
    for (String alg : List.of("EC", "RSA", "Ed25519", "EdDSA")) {
      try {
        return java.security.KeyFactory.getInstance(alg)
            .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pkcs8));
      } catch (java.security.GeneralSecurityException e) {
        // not this algorithm
      }
    }
    return null;
  }

  /** Whether {@code key} signs what the certificate's public key verifies. */
  private static boolean matches(PrivateKey key, X509Certificate cert) {
    String alg =
        switch (key.getAlgorithm()) {
          case "EC", "ECDSA" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> "";
        };
    if (alg.isEmpty()) {
      return true; // an algorithm we cannot try: let the proxy judge
    }
    try {
      byte[] probe = "bowline key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(sig);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }
}
