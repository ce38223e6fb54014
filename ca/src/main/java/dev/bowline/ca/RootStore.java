package dev.bowline.ca;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Reads and writes the CA's key material in Istio's file names: {@code ca-key.pem}, {@code
 * ca-cert.pem}, {@code root-cert.pem} (the trust bundle) and, plugged in, {@code cert-chain.pem}.
 */
final class RootStore {
  static final String CA_CERT = "ca-cert.pem";
  static final String CA_KEY = "ca-key.pem";
  static final String ROOT_CERT = "root-cert.pem";
  static final String CERT_CHAIN = "cert-chain.pem";

  private static final System.Logger LOG = System.getLogger(RootStore.class.getName());
  private static final Duration CLOCK_SKEW = Duration.ofMinutes(2);

  private RootStore() {}

  /**
   * Loads the self-signed root kept in {@code dir}, creating it (and the directory, mode 0700) at
   * first start.
   */
  static SigningAuthority loadOrCreate(
      Path dir, CaConfig config, Clock clock, SecureRandom random, Signing signing) {
    Path keyFile = dir.resolve(CA_KEY);
    Path certFile = dir.resolve(CA_CERT);
    boolean hasKey = Files.exists(keyFile);
    boolean hasCert = Files.exists(certFile);
    if (!hasKey && !hasCert) {
      SigningAuthority fresh = newRoot(config, List.of(), clock, random, signing);
      persist(dir, fresh);
      LOG.log(
          System.Logger.Level.INFO,
          "event=ca_root_created dir={0} subject=\"{1}\" not_after={2}",
          dir,
          fresh.cert().getSubjectX500Principal(),
          fresh.cert().getNotAfter().toInstant());
      return fresh;
    }
    if (hasKey != hasCert) {
      throw new IllegalStateException(
          "CA directory "
              + dir
              + ": has "
              + (hasKey ? CA_KEY : CA_CERT)
              + " but not "
              + (hasKey ? CA_CERT : CA_KEY)
              + "; restore the missing file or remove both to start a new root");
    }
    return loadSelfSigned(dir, clock);
  }

  static SigningAuthority loadSelfSigned(Path dir, Clock clock) {
    Path keyFile = dir.resolve(CA_KEY);
    tightenKeyPermissions(keyFile);
    var key = Pem.parsePrivateKey(Pem.readFile(keyFile), keyFile.toString());
    X509Certificate cert =
        Pem.parseCertificates(Pem.readFile(dir.resolve(CA_CERT)), dir.resolve(CA_CERT).toString())
            .getFirst();
    String where = dir.resolve(CA_CERT).toString();
    if (!isSelfSigned(cert)) {
      throw new IllegalStateException(
          where
              + ": is not a self-signed root; an intermediate from Istio's cacerts is plugged in"
              + " with RootSource.PluggedIn");
    }
    Pem.checkPair(key, cert, dir.resolve(CA_KEY) + " and " + where);
    Path bundleFile = dir.resolve(ROOT_CERT);
    List<X509Certificate> roots = new ArrayList<>();
    roots.add(cert);
    if (Files.exists(bundleFile)) {
      for (X509Certificate r :
          Pem.parseCertificates(Pem.readFile(bundleFile), bundleFile.toString())) {
        if (!r.equals(cert)) {
          roots.add(r);
        }
      }
    }
    warnIfExpiring(cert, where, clock);
    return SigningAuthority.of(key, cert, List.of(), new TrustBundle(roots));
  }

  /** Writes a self-signed authority: the bundle first, so a crash never leaves an untrusted key. */
  static void persist(Path dir, SigningAuthority authority) {
    createDirectory(dir);
    Pem.writeAtomically(dir.resolve(ROOT_CERT), authority.bundlePem(), false);
    Pem.writeAtomically(dir.resolve(CA_KEY), Pem.privateKey(authority.key()), true);
    Pem.writeAtomically(dir.resolve(CA_CERT), Pem.certificate(authority.cert()), false);
  }

  /** A new ECDSA P-256 self-signed root for {@code trustDomain}. */
  static SigningAuthority newRoot(
      CaConfig config,
      List<X509Certificate> alsoTrusted,
      Clock clock,
      SecureRandom random,
      Signing signing) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair pair = gen.generateKeyPair();
      Instant now = clock.instant();
      byte[] serialBytes = new byte[16];
      random.nextBytes(serialBytes);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      byte[] ski = ext.createSubjectKeyIdentifier(pair.getPublic()).getKeyIdentifier();
      X500Name subject =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, config.trustDomain())
              .addRDN(BCStyle.CN, "Bowline root CA " + HexFormat.of().formatHex(ski, 0, 4))
              .build();
      var builder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  new BigInteger(1, serialBytes),
                  Date.from(now.minus(CLOCK_SKEW)),
                  Date.from(now.plus(config.rootTtl())),
                  subject,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(builder.build(signing.contentSigner(pair.getPrivate(), random)));
      List<X509Certificate> roots = new ArrayList<>();
      roots.add(cert);
      roots.addAll(alsoTrusted);
      return SigningAuthority.of(pair.getPrivate(), cert, List.of(), new TrustBundle(roots));
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create a root CA: " + e.getMessage(), e);
    }
  }

  /**
   * Loads Istio's {@code cacerts} files and checks them: the key matches {@code ca-cert.pem}, which
   * is a CA, {@code cert-chain.pem} starts with it, and the chain leads to a root in {@code
   * root-cert.pem} and is valid now.
   */
  static SigningAuthority loadPluggedIn(Path dir, Clock clock) {
    Path certFile = dir.resolve(CA_CERT);
    Path keyFile = dir.resolve(CA_KEY);
    Path rootFile = dir.resolve(ROOT_CERT);
    Path chainFile = dir.resolve(CERT_CHAIN);
    for (Path required : List.of(certFile, keyFile, rootFile)) {
      if (!Files.isRegularFile(required)) {
        throw new IllegalArgumentException(
            "cacerts " + dir + ": " + required.getFileName() + " is missing");
      }
    }
    X509Certificate cert =
        Pem.parseCertificates(Pem.readFile(certFile), certFile.toString()).getFirst();
    var key = Pem.parsePrivateKey(Pem.readFile(keyFile), keyFile.toString());
    List<X509Certificate> roots =
        Pem.parseCertificates(Pem.readFile(rootFile), rootFile.toString());
    if (cert.getBasicConstraints() < 0) {
      throw new IllegalArgumentException(
          certFile + ": is not a CA certificate (basicConstraints CA:TRUE is missing)");
    }
    boolean[] usage = cert.getKeyUsage();
    if (usage != null && !usage[5]) {
      throw new IllegalArgumentException(certFile + ": keyUsage lacks keyCertSign");
    }
    Pem.checkPair(key, cert, keyFile + " and " + certFile);
    for (X509Certificate root : roots) {
      if (root.getBasicConstraints() < 0) {
        throw new IllegalArgumentException(
            rootFile + ": " + root.getSubjectX500Principal() + " is not a CA certificate");
      }
    }
    List<X509Certificate> chain =
        Files.exists(chainFile)
            ? Pem.parseCertificates(Pem.readFile(chainFile), chainFile.toString())
            : List.of(cert);
    if (!chain.getFirst().equals(cert)) {
      throw new IllegalArgumentException(
          chainFile
              + ": must start with the certificate of "
              + CA_CERT
              + " ("
              + cert.getSubjectX500Principal()
              + "), starts with "
              + chain.getFirst().getSubjectX500Principal());
    }
    Set<X509Certificate> rootSet = new HashSet<>(roots);
    List<X509Certificate> intermediates = new ArrayList<>();
    for (X509Certificate c : chain) {
      if (!rootSet.contains(c)) {
        intermediates.add(c);
      }
    }
    if (isSelfSigned(cert)) {
      if (!rootSet.contains(cert)) {
        throw new IllegalArgumentException(
            certFile + ": is a self-signed root that " + rootFile + " does not list");
      }
      intermediates.clear();
    } else {
      X509Certificate anchor = validatePath(intermediates, roots, clock, dir);
      // The root above the signing cert goes first in the bundle.
      List<X509Certificate> ordered = new ArrayList<>();
      ordered.add(anchor);
      for (X509Certificate r : roots) {
        if (!r.equals(anchor)) {
          ordered.add(r);
        }
      }
      roots = ordered;
    }
    warnIfExpiring(cert, certFile.toString(), clock);
    return SigningAuthority.of(key, cert, intermediates, new TrustBundle(roots));
  }

  private static X509Certificate validatePath(
      List<X509Certificate> path, List<X509Certificate> roots, Clock clock, Path dir) {
    try {
      return CertPaths.validate(path, roots, clock.instant()).getTrustAnchor().getTrustedCert();
    } catch (CertPathValidatorException e) {
      String which =
          e.getIndex() >= 0 && e.getIndex() < path.size()
              ? path.get(e.getIndex()).getSubjectX500Principal().toString()
              : "the chain";
      throw new IllegalArgumentException(
          "cacerts "
              + dir
              + ": "
              + CA_CERT
              + "/"
              + CERT_CHAIN
              + " do not lead to a root in "
              + ROOT_CERT
              + " ("
              + which
              + ": "
              + e.getMessage()
              + ")",
          e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cacerts " + dir + ": " + e.getMessage(), e);
    }
  }

  static boolean isSelfSigned(X509Certificate cert) {
    if (!cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
      return false;
    }
    try {
      cert.verify(cert.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static void warnIfExpiring(X509Certificate cert, String where, Clock clock) {
    Instant notAfter = cert.getNotAfter().toInstant();
    if (notAfter.isBefore(clock.instant().plus(Duration.ofDays(30)))) {
      LOG.log(
          System.Logger.Level.WARNING,
          "event=ca_cert_expiring file={0} not_after={1}",
          where,
          notAfter);
    }
  }

  private static void createDirectory(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create CA directory " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void tightenKeyPermissions(Path keyFile) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile);
      if (!perms.equals(PosixFilePermissions.fromString("rw-------"))) {
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        LOG.log(
            System.Logger.Level.WARNING,
            "event=ca_key_permissions_fixed file={0} was={1} now=rw-------",
            keyFile,
            PosixFilePermissions.toString(perms));
      }
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot check permissions of " + keyFile + ": " + e, e);
    }
  }
}
