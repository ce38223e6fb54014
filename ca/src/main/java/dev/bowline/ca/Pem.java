package dev.bowline.ca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** PEM encoding and decoding, and writing key files safely. */
final class Pem {
  private static final Base64.Encoder MIME = Base64.getMimeEncoder(64, new byte[] {'\n'});

  private Pem() {}

  /** One PEM block of {@code type} around {@code der}. */
  static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + MIME.encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  static String certificate(X509Certificate cert) {
    try {
      return encode("CERTIFICATE", cert.getEncoded());
    } catch (CertificateException e) {
      throw new IllegalStateException(
          "cannot encode certificate " + cert.getSubjectX500Principal(), e);
    }
  }

  static String certificates(Collection<X509Certificate> certs) {
    StringBuilder sb = new StringBuilder();
    for (X509Certificate c : certs) {
      sb.append(certificate(c));
    }
    return sb.toString();
  }

  /** Every certificate in a PEM text; {@code what} names the source in errors. */
  static List<X509Certificate> parseCertificates(String pem, String what) {
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c :
          cf.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException(what + ": no PEM CERTIFICATE block found");
      }
      return List.copyOf(out);
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          what + ": not a valid PEM certificate: " + e.getMessage(), e);
    }
  }

  /**
   * A private key from PEM: PKCS#8 ({@code PRIVATE KEY}), SEC1 ({@code EC PRIVATE KEY}) or PKCS#1
   * ({@code RSA PRIVATE KEY}), the forms Istio's {@code cacerts} use.
   */
  static PrivateKey parsePrivateKey(String pem, String what) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      return switch (o) {
        case PrivateKeyInfo info -> converter.getPrivateKey(info);
        case PEMKeyPair pair -> converter.getPrivateKey(pair.getPrivateKeyInfo());
        case null -> throw new IllegalArgumentException(what + ": no PEM private key block found");
        default ->
            throw new IllegalArgumentException(
                what
                    + ": expected an unencrypted private key, found "
                    + o.getClass().getSimpleName());
      };
    } catch (IOException e) {
      throw new IllegalArgumentException(
          what + ": not a valid PEM private key: " + e.getMessage(), e);
    }
  }

  static String readFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Replaces {@code file} with {@code text} atomically; with {@code secret} the file is created
   * with mode 0600 before any byte is written, so a key is never readable by others.
   */
  static void writeAtomically(Path file, String text, boolean secret) {
    Path dir = file.toAbsolutePath().getParent();
    try {
      Path tmp =
          secret
              ? Files.createTempFile(
                  dir,
                  "." + file.getFileName(),
                  ".tmp",
                  PosixFilePermissions.asFileAttribute(
                      PosixFilePermissions.fromString("rw-------")))
              : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      try {
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        if (!secret) {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        }
        try {
          Files.move(
              tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  static String privateKey(PrivateKey key) {
    return encode("PRIVATE KEY", key.getEncoded());
  }

  static void checkPair(PrivateKey key, X509Certificate cert, String what) {
    // Sign a probe with the key and verify with the certificate's public key.
    try {
      String alg = Signing.algorithmFor(key);
      var signer = java.security.Signature.getInstance(alg);
      signer.initSign(key);
      byte[] probe = "bowline-ca key check".getBytes(StandardCharsets.US_ASCII);
      signer.update(probe);
      byte[] sig = signer.sign();
      var verifier = java.security.Signature.getInstance(alg);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(sig)) {
        throw new IllegalArgumentException(
            what + ": the private key does not match the certificate");
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          what + ": the private key does not match the certificate (" + e.getMessage() + ")", e);
    }
  }
}
