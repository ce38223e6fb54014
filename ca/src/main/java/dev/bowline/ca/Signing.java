package dev.bowline.ca;

import static dev.bowline.ca.CaException.Reason.INVALID_ARGUMENT;

import java.io.IOException;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * The signing hot path: parse and check a CSR, then build and sign a workload certificate. Bouncy
 * Castle builds and parses the ASN.1; the JCA provider that does the arithmetic is chosen per
 * operation by {@link Engine}. By default Bouncy Castle verifies CSR signatures (public data only,
 * and measured 2.7x faster than the JDK's SunEC) and the JDK signs with the CA key (SunEC's
 * constant-time P-256, and faster at signing). See docs/decisions/0005-ca.md. Stateless after
 * construction, safe for any number of threads.
 */
final class Signing {

  /** Which JCA provider verifies CSR signatures and signs certificates. */
  enum Engine {
    /** The JDK's own providers (SunEC, SunRsaSign). */
    JDK,
    /** Bouncy Castle's provider (an instance of our own; never registered globally). */
    BOUNCY_CASTLE
  }

  private static final ASN1ObjectIdentifier EC_PUBLIC_KEY = X9ObjectIdentifiers.id_ecPublicKey;
  private static final int MIN_RSA_BITS = 2048;
  private static final int MAX_RSA_BITS = 8192;
  private static final String PEM_BEGIN = "-----BEGIN CERTIFICATE REQUEST-----";
  private static final String PEM_END = "-----END CERTIFICATE REQUEST-----";
  private static final String PEM_BEGIN_NEW = "-----BEGIN NEW CERTIFICATE REQUEST-----";
  private static final String PEM_END_NEW = "-----END NEW CERTIFICATE REQUEST-----";

  private static final Extension BASIC_CONSTRAINTS_LEAF =
      extension(Extension.basicConstraints, true, new BasicConstraints(false));
  private static final Extension KEY_USAGE_LEAF =
      extension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
  private static final Extension EXT_KEY_USAGE_LEAF =
      extension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
  private static final X500Name EMPTY_SUBJECT = new X500Name(new org.bouncycastle.asn1.x500.RDN[0]);

  private final Engine verifyEngine;
  private final Engine signEngine;
  private final Provider bouncyCastle;

  /** Bouncy Castle verifies, the JDK signs: the measured best, see the class comment. */
  Signing() {
    this(Engine.BOUNCY_CASTLE, Engine.JDK);
  }

  Signing(Engine verifyEngine, Engine signEngine) {
    this.verifyEngine = verifyEngine;
    this.signEngine = signEngine;
    this.bouncyCastle = new BouncyCastleProvider();
  }

  /** A CSR that parsed, uses an accepted key and whose signature verified. */
  record CheckedCsr(SubjectPublicKeyInfo publicKey, List<String> uris, String keyDescription) {}

  /**
   * Parses {@code pem}, checks its key type and its signature (proof of possession).
   *
   * @throws CaException INVALID_ARGUMENT naming what is wrong
   */
  CheckedCsr check(String pem, int maxBytes) {
    if (pem.isBlank()) {
      throw invalid("csr: empty; send a PEM-encoded PKCS#10 CERTIFICATE REQUEST");
    }
    if (pem.length() > maxBytes) {
      throw invalid("csr: " + pem.length() + " bytes exceeds the limit of " + maxBytes + " bytes");
    }
    PKCS10CertificationRequest csr = parse(pem);
    SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
    String keyDescription = checkKey(spki);
    verifySignature(csr, spki);
    return new CheckedCsr(spki, requestedUris(csr), keyDescription);
  }

  /**
   * Signs a workload certificate the way Istio's CA shapes one: empty subject, the SPIFFE ID(s) in
   * a critical subjectAltName, keyUsage digitalSignature+keyEncipherment (critical), extended key
   * usage serverAuth+clientAuth, basicConstraints CA:false (critical), authority key identifier of
   * the signer.
   *
   * @return the DER encoding of the certificate
   */
  byte[] signLeaf(
      SigningAuthority authority,
      SubjectPublicKeyInfo publicKey,
      List<String> uris,
      BigInteger serial,
      Date notBefore,
      Date notAfter,
      SecureRandom random) {
    GeneralName[] names = new GeneralName[uris.size()];
    for (int i = 0; i < names.length; i++) {
      names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris.get(i));
    }
    X509v3CertificateBuilder builder =
        new X509v3CertificateBuilder(
            authority.issuer(), serial, notBefore, notAfter, EMPTY_SUBJECT, publicKey);
    try {
      builder
          .addExtension(BASIC_CONSTRAINTS_LEAF)
          .addExtension(KEY_USAGE_LEAF)
          .addExtension(EXT_KEY_USAGE_LEAF)
          .addExtension(authority.authorityKeyIdentifier())
          .addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      return builder.build(contentSigner(authority.key(), random)).getEncoded();
    } catch (IOException e) {
      throw new CaException(CaException.Reason.INTERNAL, "cannot encode certificate: " + e, e);
    }
  }

  ContentSigner contentSigner(PrivateKey key, SecureRandom random) {
    JcaContentSignerBuilder b =
        new JcaContentSignerBuilder(algorithmFor(key)).setSecureRandom(random);
    if (signEngine == Engine.BOUNCY_CASTLE) {
      b.setProvider(bouncyCastle);
    }
    try {
      return b.build(key);
    } catch (OperatorCreationException e) {
      throw new CaException(CaException.Reason.INTERNAL, "cannot sign with the CA key: " + e, e);
    }
  }

  /** The signature algorithm Istio's CA (Go's x509) uses for a key of this type. */
  static String algorithmFor(PrivateKey key) {
    return switch (key) {
      case ECKey ec when ec.getParams().getCurve().getField().getFieldSize() > 256 ->
          "SHA384withECDSA";
      case ECKey ignored -> "SHA256withECDSA";
      case RSAKey ignored -> "SHA256withRSA";
      default ->
          throw new IllegalArgumentException(
              "unsupported CA key type " + key.getAlgorithm() + "; use ECDSA or RSA");
    };
  }

  static AuthorityKeyIdentifier authorityKeyIdentifier(byte[] subjectKeyIdentifier) {
    return new AuthorityKeyIdentifier(subjectKeyIdentifier);
  }

  private static PKCS10CertificationRequest parse(String pem) {
    int begin = pem.indexOf(PEM_BEGIN);
    String end = PEM_END;
    int headerLength = PEM_BEGIN.length();
    if (begin < 0) {
      begin = pem.indexOf(PEM_BEGIN_NEW);
      end = PEM_END_NEW;
      headerLength = PEM_BEGIN_NEW.length();
    }
    if (begin < 0) {
      throw invalid("csr: no PEM block '" + PEM_BEGIN + "' found");
    }
    int stop = pem.indexOf(end, begin);
    if (stop < 0) {
      throw invalid("csr: PEM block has no '" + end + "' line");
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(stripWhitespace(pem, begin + headerLength, stop));
    } catch (IllegalArgumentException e) {
      throw invalid("csr: PEM body is not valid base64: " + e.getMessage());
    }
    try {
      return new PKCS10CertificationRequest(der);
    } catch (IOException | RuntimeException e) {
      throw invalid("csr: not a valid DER PKCS#10 request: " + e.getMessage());
    }
  }

  private static byte[] stripWhitespace(String text, int from, int to) {
    byte[] out = new byte[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
        out[n++] = (byte) c;
      }
    }
    return n == out.length ? out : java.util.Arrays.copyOf(out, n);
  }

  private static String checkKey(SubjectPublicKeyInfo spki) {
    ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
    if (alg.equals(EC_PUBLIC_KEY)) {
      var params = spki.getAlgorithm().getParameters();
      if (SECObjectIdentifiers.secp256r1.equals(params)) {
        return "ECDSA P-256";
      }
      if (SECObjectIdentifiers.secp384r1.equals(params)) {
        return "ECDSA P-384";
      }
      throw invalid(
          "csr: public key: elliptic curve " + params + " is not supported; use P-256 or P-384");
    }
    if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      int bits;
      try {
        bits = RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
      } catch (IOException | RuntimeException e) {
        throw invalid("csr: public key: not a valid RSA key: " + e.getMessage());
      }
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw invalid(
            "csr: public key: RSA "
                + bits
                + " bits is not supported; use "
                + MIN_RSA_BITS
                + " to "
                + MAX_RSA_BITS
                + " bits");
      }
      return "RSA " + bits;
    }
    throw invalid(
        "csr: public key algorithm "
            + alg
            + " is not supported; use ECDSA P-256 (recommended) or RSA >= 2048 bits");
  }

  private void verifySignature(PKCS10CertificationRequest csr, SubjectPublicKeyInfo spki) {
    boolean valid;
    try {
      JcaContentVerifierProviderBuilder b = new JcaContentVerifierProviderBuilder();
      if (verifyEngine == Engine.BOUNCY_CASTLE) {
        b.setProvider(bouncyCastle);
      }
      valid = csr.isSignatureValid(b.build(spki));
    } catch (OperatorCreationException | PKCSException | RuntimeException e) {
      throw invalid("csr: signature cannot be checked: " + e.getMessage());
    }
    if (!valid) {
      throw invalid(
          "csr: signature does not verify with the CSR's own public key (proof of possession"
              + " failed)");
    }
  }

  private static List<String> requestedUris(PKCS10CertificationRequest csr) {
    var attributes = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    List<String> uris = new ArrayList<>(1);
    for (var attribute : attributes) {
      for (var value : attribute.getAttrValues()) {
        Extensions extensions;
        try {
          extensions = Extensions.getInstance(value);
        } catch (RuntimeException e) {
          throw invalid("csr: extensionRequest attribute is malformed: " + e.getMessage());
        }
        GeneralNames names;
        try {
          names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
        } catch (RuntimeException e) {
          throw invalid("csr: subjectAltName is malformed: " + e.getMessage());
        }
        if (names == null) {
          continue;
        }
        for (GeneralName name : names.getNames()) {
          if (name.getTagNo() != GeneralName.uniformResourceIdentifier) {
            throw invalid(
                "csr: subjectAltName "
                    + describe(name)
                    + " is not allowed: the CA issues only SPIFFE URI identities");
          }
          uris.add(name.getName().toString());
        }
      }
    }
    return uris;
  }

  private static String describe(GeneralName name) {
    String kind =
        switch (name.getTagNo()) {
          case GeneralName.dNSName -> "DNS";
          case GeneralName.iPAddress -> "IP";
          case GeneralName.rfc822Name -> "email";
          case GeneralName.directoryName -> "dirName";
          default -> "type " + name.getTagNo();
        };
    return kind + ":" + name.getName();
  }

  private static Extension extension(
      ASN1ObjectIdentifier oid, boolean critical, org.bouncycastle.asn1.ASN1Encodable value) {
    try {
      return new Extension(oid, critical, value.toASN1Primitive().getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static CaException invalid(String message) {
    return new CaException(INVALID_ARGUMENT, message);
  }
}
