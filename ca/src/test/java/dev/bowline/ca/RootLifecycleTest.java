package dev.bowline.ca;

import static dev.bowline.ca.CaServerTest.assertRefused;
import static dev.bowline.ca.CaServerTest.assertValidPath;
import static dev.bowline.ca.TestPki.channel;
import static dev.bowline.ca.TestPki.csr;
import static dev.bowline.ca.TestPki.parseChain;
import static dev.bowline.ca.TestPki.request;
import static dev.bowline.ca.TestPki.stub;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeping the root across restarts, rotating it with overlap, and plugging in Istio cacerts. */
class RootLifecycleTest {
  private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";
  private static final Set<WorkloadIdentity> SLEEP_ID = Set.of(WorkloadIdentity.parse(SLEEP));

  @TempDir Path dir;
  private final SecureRandom random = new SecureRandom();
  private final Clock clock = Clock.systemUTC();

  private CertificateAuthority open(RootSource source) {
    return CertificateAuthority.open(CaConfig.defaults(source), clock, random);
  }

  @Test
  void firstStartWritesTheRootWithAPrivateKeyFileAndRestartKeepsIt() throws Exception {
    Path caDir = dir.resolve("ca");
    CertificateAuthority first = open(new RootSource.SelfSigned(caDir));
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(caDir.resolve("ca-key.pem"))))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir)))
        .isEqualTo("rwx------");
    assertThat(Files.readString(caDir.resolve("root-cert.pem")))
        .isEqualTo(first.trustBundle().pem());
    X509Certificate root = first.signingCertificate();
    assertThat(RootStore.isSelfSigned(root)).isTrue();
    assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);

    KeyPair key = TestPki.ec();
    LocalTokenIssuer tokens = new LocalTokenIssuer(random);
    String token = tokens.issue("default", "sleep");
    List<X509Certificate> issued;
    try (CaServer server =
        CaServer.start(first, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens)) {
      ManagedChannel ch = channel(server.port(), first.trustBundle().roots(), null, List.of());
      try {
        issued =
            parseChain(request(stub(ch, "Bearer " + token), csr(key, SLEEP), 0).getCertChainList());
      } finally {
        TestPki.close(ch);
      }
    }

    // A restarted CA (new process, new token issuer) keeps the root: the old identity stays valid
    // and renews with its certificate alone.
    CertificateAuthority second = open(new RootSource.SelfSigned(caDir));
    assertThat(second.signingCertificate()).isEqualTo(root);
    assertThat(second.trustBundle().roots()).containsExactly(root);
    assertValidPath(issued.getFirst(), second.trustBundle().roots());
    try (CaServer server =
        CaServer.start(
            second, CaServerConfig.defaults("127.0.0.1").withPort(0), TokenAuthenticator.none())) {
      ManagedChannel mtls =
          channel(
              server.port(), second.trustBundle().roots(), key.getPrivate(), issued.subList(0, 1));
      try {
        X509Certificate renewed =
            parseChain(request(stub(mtls, null), csr(TestPki.ec(), SLEEP), 0).getCertChainList())
                .getFirst();
        assertThat(renewed.getSubjectAlternativeNames()).containsExactly(List.of(6, SLEEP));
        renewed.verify(root.getPublicKey());
      } finally {
        TestPki.close(mtls);
      }
    }
  }

  @Test
  void aKeyFileOthersCanReadIsTightenedOnLoad() throws Exception {
    Path caDir = dir.resolve("ca");
    open(new RootSource.SelfSigned(caDir));
    Path key = caDir.resolve("ca-key.pem");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    open(new RootSource.SelfSigned(caDir));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
  }

  @Test
  void aHalfWrittenDirectoryIsRefusedNamingTheMissingFile() throws Exception {
    Path caDir = dir.resolve("ca");
    open(new RootSource.SelfSigned(caDir));
    Files.delete(caDir.resolve("ca-cert.pem"));
    assertThatThrownBy(() -> open(new RootSource.SelfSigned(caDir)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has ca-key.pem but not ca-cert.pem");
  }

  @Test
  void rotationKeepsTheOldRootTrustedUntilItIsRetired() throws Exception {
    Path caDir = dir.resolve("ca");
    CertificateAuthority ca = open(new RootSource.SelfSigned(caDir));
    X509Certificate oldRoot = ca.signingCertificate();
    KeyPair oldKey = TestPki.ec();
    X509Certificate oldLeaf =
        TestPki.parse(ca.sign(csr(oldKey, SLEEP), SLEEP_ID, Duration.ZERO).leafPem()).getFirst();

    try (CaServer server =
        CaServer.start(
            ca, CaServerConfig.defaults("127.0.0.1").withPort(0), TokenAuthenticator.none())) {
      TrustBundle both = ca.rotateRoot();
      X509Certificate newRoot = ca.signingCertificate();
      assertThat(newRoot).isNotEqualTo(oldRoot);
      assertThat(both.roots()).containsExactly(newRoot, oldRoot);
      assertThat(Files.readString(caDir.resolve("root-cert.pem"))).isEqualTo(both.pem());
      assertThat(open(new RootSource.SelfSigned(caDir)).trustBundle()).isEqualTo(both);

      // The server now presents a certificate from the new root; an old-root workload renews
      // with its certificate and gets a new-root certificate plus both roots.
      assertThat(server.servingChain().getFirst().getIssuerX500Principal())
          .isEqualTo(newRoot.getSubjectX500Principal());
      ManagedChannel mtls =
          channel(server.port(), both.roots(), oldKey.getPrivate(), List.of(oldLeaf));
      try {
        var response = request(stub(mtls, null), csr(TestPki.ec(), SLEEP), 0);
        List<X509Certificate> chain = parseChain(response.getCertChainList());
        assertThat(chain).hasSize(3).endsWith(newRoot, oldRoot);
        chain.getFirst().verify(newRoot.getPublicKey());
        assertValidPath(oldLeaf, both.roots());
      } finally {
        TestPki.close(mtls);
      }

      assertThatThrownBy(() -> ca.retireRoot(newRoot))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is the one the CA signs under");
      TrustBundle retired = ca.retireRoot(oldRoot);
      assertThat(retired.roots()).containsExactly(newRoot);
      ManagedChannel stale =
          channel(server.port(), retired.roots(), oldKey.getPrivate(), List.of(oldLeaf));
      try {
        assertRefused(
            () -> request(stub(stale, null), csr(TestPki.ec(), SLEEP), 0),
            Status.Code.UNAUTHENTICATED,
            "client certificate: is not signed by a root this CA trusts");
      } finally {
        TestPki.close(stale);
      }
    }
  }

  @Test
  void pluggedInCacertsSignAsAnIntermediate() throws Exception {
    Cacerts cacerts = Cacerts.write(dir.resolve("cacerts"));
    CertificateAuthority ca = open(new RootSource.PluggedIn(cacerts.dir()));
    assertThat(ca.signingCertificate()).isEqualTo(cacerts.intermediate());
    assertThat(ca.trustBundle().roots()).containsExactly(cacerts.root());

    LocalTokenIssuer tokens = new LocalTokenIssuer(random);
    try (CaServer server =
        CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens)) {
      assertThat(server.servingChain()).endsWith(cacerts.intermediate());
      ManagedChannel ch = channel(server.port(), List.of(cacerts.root()), null, List.of());
      try {
        KeyPair key = TestPki.ec();
        var response =
            request(stub(ch, "Bearer " + tokens.issue("default", "sleep")), csr(key, SLEEP), 0);
        assertThat(response.getCertChainCount()).isEqualTo(3);
        List<X509Certificate> chain = parseChain(response.getCertChainList());
        assertThat(chain).containsExactly(chain.getFirst(), cacerts.intermediate(), cacerts.root());
        chain.getFirst().verify(cacerts.intermediate().getPublicKey());
        assertThat(chain.getFirst().getIssuerX500Principal())
            .isEqualTo(cacerts.intermediate().getSubjectX500Principal());
      } finally {
        TestPki.close(ch);
      }
    }
    assertThatThrownBy(ca::rotateRoot)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("replacing the cacerts files");
  }

  @Test
  void badCacertsAreRefusedNamingTheFileAndReloadKeepsTheLastGoodSet() throws Exception {
    Cacerts cacerts = Cacerts.write(dir.resolve("cacerts"));
    CertificateAuthority ca = open(new RootSource.PluggedIn(cacerts.dir()));

    // A key that does not belong to ca-cert.pem.
    Path keyFile = cacerts.dir().resolve("ca-key.pem");
    String goodKey = Files.readString(keyFile);
    Files.writeString(keyFile, Pem.privateKey(TestPki.ec().getPrivate()));
    assertThatThrownBy(ca::reload)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ca-key.pem and " + cacerts.dir().resolve("ca-cert.pem"))
        .hasMessageContaining("the private key does not match the certificate");
    assertThat(ca.signingCertificate()).isEqualTo(cacerts.intermediate());
    assertThat(ca.sign(csr(TestPki.ec(), SLEEP), SLEEP_ID, Duration.ZERO).certChain()).hasSize(3);
    Files.writeString(keyFile, goodKey);

    // A root-cert.pem that does not anchor the intermediate.
    Path rootFile = cacerts.dir().resolve("root-cert.pem");
    String goodRoot = Files.readString(rootFile);
    KeyPair stranger = TestPki.ec();
    Files.writeString(rootFile, Pem.certificate(TestPki.caCert("stranger", stranger, null, null)));
    assertThatThrownBy(ca::reload)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ca-cert.pem/cert-chain.pem do not lead to a root in root-cert.pem");
    Files.writeString(rootFile, goodRoot);

    // Missing file, and a leaf in place of a CA.
    Files.delete(cacerts.dir().resolve("ca-key.pem"));
    assertThatThrownBy(() -> open(new RootSource.PluggedIn(cacerts.dir())))
        .hasMessageContaining("ca-key.pem is missing");
    Files.writeString(keyFile, goodKey);
    String leafPem = ca.sign(csr(TestPki.ec(), SLEEP), SLEEP_ID, Duration.ZERO).leafPem();
    Files.writeString(cacerts.dir().resolve("ca-cert.pem"), leafPem);
    assertThatThrownBy(() -> open(new RootSource.PluggedIn(cacerts.dir())))
        .hasMessageContaining("ca-cert.pem: is not a CA certificate");

    // Rotation the Istio way: root-cert.pem lists the old and a new root.
    Files.writeString(
        cacerts.dir().resolve("ca-cert.pem"), Pem.certificate(cacerts.intermediate()));
    X509Certificate newRoot = TestPki.caCert("new root", TestPki.ec(), null, null);
    Files.writeString(rootFile, goodRoot + Pem.certificate(newRoot));
    assertThat(ca.reload().roots()).containsExactly(cacerts.root(), newRoot);
    assertThat(ca.sign(csr(TestPki.ec(), SLEEP), SLEEP_ID, Duration.ZERO).rootsPem())
        .isEqualTo(Pem.certificates(List.of(cacerts.root(), newRoot)));
  }

  /** Istio-style cacerts: an RSA root and an EC intermediate, key in SEC1 form. */
  record Cacerts(Path dir, X509Certificate root, X509Certificate intermediate) {
    static Cacerts write(Path dir) throws Exception {
      Files.createDirectories(dir);
      KeyPair rootKey = TestPki.rsa(2048);
      X509Certificate root = TestPki.caCert("Root CA", rootKey, null, null);
      KeyPair intKey = TestPki.ec();
      X509Certificate intermediate =
          TestPki.caCert("Intermediate CA", intKey, root, rootKey.getPrivate());
      Files.writeString(dir.resolve("root-cert.pem"), Pem.certificate(root));
      Files.writeString(dir.resolve("ca-cert.pem"), Pem.certificate(intermediate));
      Files.writeString(
          dir.resolve("cert-chain.pem"), Pem.certificates(List.of(intermediate, root)));
      // SEC1 as openssl and Go write it: curve OID and public key inside.
      var sec1 =
          new org.bouncycastle.asn1.sec.ECPrivateKey(
                  256,
                  ((java.security.interfaces.ECPrivateKey) intKey.getPrivate()).getS(),
                  org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
                          intKey.getPublic().getEncoded())
                      .getPublicKeyData(),
                  org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1)
              .getEncoded();
      Files.writeString(dir.resolve("ca-key.pem"), Pem.encode("EC PRIVATE KEY", sec1));
      return new Cacerts(dir, root, intermediate);
    }
  }
}
