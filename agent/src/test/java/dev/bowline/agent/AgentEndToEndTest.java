package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.ca.CaConfig;
import dev.bowline.ca.CaServer;
import dev.bowline.ca.CaServerConfig;
import dev.bowline.ca.CertificateAuthority;
import dev.bowline.ca.LocalTokenIssuer;
import dev.bowline.ca.RootSource;
import dev.bowline.ca.WorkloadIdentity;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent against a real CA over gRPC/TLS on 127.0.0.1, serving SDS on a Unix socket to a real
 * grpc-java SDS client. The agent's time is moved by hand; the CA runs on the real clock, because
 * the JDK's TLS client checks the CA's serving certificate against the real clock.
 */
class AgentEndToEndTest {
  private static final WorkloadIdentity SLEEP =
      new WorkloadIdentity("cluster.local", "default", "sleep");

  @TempDir Path caDir;
  @TempDir Path runDir;
  private final SecureRandom random = new SecureRandom();
  private final ManualTime time = new ManualTime(Instant.now());
  private final LocalTokenIssuer tokens = new LocalTokenIssuer(random);
  private CertificateAuthority ca;
  private CaServer caServer;
  private CertificateManager manager;
  private SdsServer sds;
  private SdsTestClient client;

  @BeforeEach
  void start() {
    ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(caDir)), Clock.systemUTC(), random);
    caServer = CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
    AgentConfig config =
        AgentConfig.defaults(
                SLEEP,
                "127.0.0.1",
                caServer.port(),
                new CaTrust.PemFile(caDir.resolve("root-cert.pem")),
                tokens.issue("default", "sleep"))
            .withRequestedTtl(Duration.ofHours(1));
    manager = new CertificateManager(config, time, time, random);
    sds = SdsServer.start(manager, runDir.resolve("sds/socket"), time);
    client = new SdsTestClient(sds.socket());
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    sds.close();
    manager.close();
    caServer.close();
  }

  @Test
  void servesTheCertificateAndBundleThenPushesEachRotation() throws Exception {
    manager.start();
    time.runDue();
    WorkloadCertificate first = manager.firstCertificate().get(10, TimeUnit.SECONDS);

    client.subscribe("", "", "default", "ROOTCA");
    DiscoveryResponse r1 = client.next();
    assertThat(r1.getTypeUrl()).isEqualTo(SdsSecrets.TYPE_URL);
    Map<String, Secret> secrets = SdsTestClient.secrets(r1);
    assertThat(secrets).containsOnlyKeys("default", "ROOTCA");
    X509Certificate leaf = assertWorkloadSecret(secrets.get("default"));
    assertThat(leaf).isEqualTo(first.leaf());
    assertThat(
            secrets
                .get("ROOTCA")
                .getValidationContext()
                .getTrustedCa()
                .getInlineBytes()
                .toString(StandardCharsets.US_ASCII))
        .isEqualTo(ca.trustBundle().pem());
    assertThat(Files.getPosixFilePermissions(sds.socket()))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));

    client.ack(r1, "default", "ROOTCA");
    assertThat(client.poll(300)).as("an ACK is not answered").isNull();

    Duration lifetime = Duration.between(first.receivedAt(), first.notAfter());
    Duration untilRotation = Duration.between(time.instant(), time.nextDue());
    assertThat(untilRotation)
        .as("rotation at 75-80%% of the lifetime")
        .isBetween(
            lifetime.multipliedBy(75).dividedBy(100), lifetime.multipliedBy(80).dividedBy(100));
    time.advance(untilRotation);

    DiscoveryResponse r2 = client.next();
    assertThat(r2.getVersionInfo()).isNotEqualTo(r1.getVersionInfo());
    assertThat(r2.getNonce()).isNotEqualTo(r1.getNonce());
    Map<String, Secret> rotated = SdsTestClient.secrets(r2);
    assertThat(rotated)
        .as("the bundle did not change, so only default is pushed")
        .containsOnlyKeys("default");
    X509Certificate renewed = assertWorkloadSecret(rotated.get("default"));
    assertThat(renewed.getSerialNumber()).isNotEqualTo(leaf.getSerialNumber());
    assertThat(renewed.getPublicKey())
        .as("a fresh key per certificate")
        .isNotEqualTo(leaf.getPublicKey());
    assertThat(renewed.getNotBefore()).isAfterOrEqualTo(leaf.getNotBefore());
    client.ack(r2, "default", "ROOTCA");
  }

  @Test
  void keepsServingTheCertificateWhileTheCaIsDownAndRenewsAfterItsRestart() throws Exception {
    manager.start();
    time.runDue();
    WorkloadCertificate first = manager.firstCertificate().get(10, TimeUnit.SECONDS);
    client.subscribe("", "", "default", "ROOTCA");
    DiscoveryResponse r1 = client.next();
    client.ack(r1, "default", "ROOTCA");
    int port = caServer.port();

    caServer.close();
    time.advance(Duration.between(time.instant(), time.nextDue()));
    time.advance(Duration.ofSeconds(10)); // a few retries fail too
    assertThat(manager.current()).contains(first);
    assertThat(manager.hasValidCertificate()).isTrue();
    assertThat(client.poll(300)).as("nothing to push while the CA is down").isNull();
    assertThat(client.closed).isNotDone();

    // The CA restarts from its directory: same root; tokens were in memory and are gone, so the
    // agent renews with its current certificate.
    ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(caDir)), Clock.systemUTC(), random);
    caServer =
        CaServer.start(
            ca, CaServerConfig.defaults("127.0.0.1").withPort(port), new LocalTokenIssuer(random));
    time.advance(Duration.between(time.instant(), time.nextDue()));

    DiscoveryResponse r2 = client.next();
    X509Certificate renewed = assertWorkloadSecret(SdsTestClient.secrets(r2).get("default"));
    assertThat(renewed.getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
    assertThat(SdsTestClient.secrets(r2)).containsOnlyKeys("default");
    assertThat(manager.current().orElseThrow().bundle()).isEqualTo(first.bundle());
  }

  @Test
  void aCertificateThatExpiresWhileTheCaIsDownIsNoLongerValid() throws Exception {
    manager.start();
    time.runDue();
    WorkloadCertificate first = manager.firstCertificate().get(10, TimeUnit.SECONDS);
    caServer.close();

    time.advance(Duration.between(time.instant(), first.notAfter()).plusSeconds(1));

    assertThat(manager.current()).contains(first);
    assertThat(manager.hasValidCertificate()).isFalse();
    caServer = CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
  }

  @Test
  void answersAfterTheFirstCertificateArrives() throws Exception {
    client.subscribe("", "", "default");
    assertThat(client.poll(300)).as("no certificate yet").isNull();

    manager.start();
    time.runDue();

    assertWorkloadSecret(SdsTestClient.secrets(client.next()).get("default"));
  }

  @Test
  void followsTheXdsProtocolForNamesNacksAndStaleNonces() throws Exception {
    manager.start();
    time.runDue();
    client.subscribe("", "", "default");
    DiscoveryResponse r1 = client.next();
    assertThat(SdsTestClient.secrets(r1)).containsOnlyKeys("default");

    // Adding a name is answered with every watched name.
    client.subscribe(r1.getVersionInfo(), r1.getNonce(), "default", "ROOTCA");
    DiscoveryResponse r2 = client.next();
    assertThat(SdsTestClient.secrets(r2)).containsOnlyKeys("default", "ROOTCA");

    // A NACK is logged and not answered; a request with an old nonce is stale.
    client.nack(r2, r1.getVersionInfo(), "default", "ROOTCA");
    client.subscribe(r1.getVersionInfo(), r1.getNonce(), "default", "ROOTCA", "other");
    assertThat(client.poll(300)).isNull();

    // Any other name gets the workload certificate under that name, as Istio's agent does.
    client.subscribe(r2.getVersionInfo(), r2.getNonce(), "default", "ROOTCA", "my-cert");
    Map<String, Secret> r3 = SdsTestClient.secrets(client.next());
    assertThat(r3).containsOnlyKeys("default", "ROOTCA", "my-cert");
    assertThat(r3.get("my-cert").getTlsCertificate())
        .isEqualTo(r3.get("default").getTlsCertificate());

    // File-based names are refused with a reason (Istio would read the file).
    SdsTestClient other = new SdsTestClient(sds.socket());
    try {
      other.subscribe("", "", "file-cert:/etc/certs/cert.pem~/etc/certs/key.pem");
      Status status = other.closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
      assertThat(status.getDescription())
          .isEqualTo(
              "resource 'file-cert:/etc/certs/cert.pem~/etc/certs/key.pem': file-based"
                  + " certificates are not supported by this agent");
    } finally {
      other.close();
    }
    assertThat(client.closed).as("one bad stream does not affect another").isNotDone();
  }

  @Test
  void aRootRotationPushesTheNewBundleAsRootca() throws Exception {
    manager.start();
    time.runDue();
    WorkloadCertificate first = manager.firstCertificate().get(10, TimeUnit.SECONDS);
    client.subscribe("", "", "default", "ROOTCA");
    client.ack(client.next(), "default", "ROOTCA");

    X509Certificate oldRoot = ca.trustBundle().roots().getFirst();
    ca.rotateRoot();
    time.advance(Duration.between(time.instant(), time.nextDue()));

    Map<String, Secret> pushed = SdsTestClient.secrets(client.next());
    assertThat(pushed).containsOnlyKeys("default", "ROOTCA");
    List<X509Certificate> bundle =
        Certs.parse(
            pushed
                .get("ROOTCA")
                .getValidationContext()
                .getTrustedCa()
                .getInlineBytes()
                .toString(StandardCharsets.US_ASCII));
    assertThat(bundle).hasSize(2).contains(oldRoot);
    assertThat(manager.current().orElseThrow().bundle()).isNotEqualTo(first.bundle());
  }

  @Test
  void rsaKeysWorkToo() throws Exception {
    try (CaServer rsaCa =
            CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
        CertificateManager rsa =
            new CertificateManager(
                AgentConfig.defaults(
                        SLEEP,
                        "127.0.0.1",
                        rsaCa.port(),
                        new CaTrust.Fixed(ca.trustBundle()),
                        tokens.issue("default", "sleep"))
                    .withKeyAlgorithm(KeyAlgorithm.RSA_2048),
                time,
                time,
                random)) {
      rsa.start();
      time.runDue();
      WorkloadCertificate cert = rsa.firstCertificate().get(10, TimeUnit.SECONDS);
      assertThat(cert.leaf().getPublicKey().getAlgorithm()).isEqualTo("RSA");
      assertThat(Certs.matches(Certs.privateKey(cert.privateKeyPem(), "RSA"), cert.leaf()))
          .isTrue();
      assertThat(Pem.uris(cert.leaf())).containsExactly(SLEEP.spiffeId());
    }
  }

  /** Chain and key parse, match, and name SLEEP; returns the leaf. */
  private X509Certificate assertWorkloadSecret(Secret secret) throws Exception {
    assertThat(secret.hasTlsCertificate()).isTrue();
    List<X509Certificate> chain =
        Certs.parse(
            secret
                .getTlsCertificate()
                .getCertificateChain()
                .getInlineBytes()
                .toString(StandardCharsets.US_ASCII));
    X509Certificate leaf = chain.getFirst();
    assertThat(Pem.uris(leaf)).containsExactly(SLEEP.spiffeId());
    assertThat(
            Certs.matches(
                Certs.privateKey(
                    secret
                        .getTlsCertificate()
                        .getPrivateKey()
                        .getInlineBytes()
                        .toString(StandardCharsets.US_ASCII),
                    "EC"),
                leaf))
        .isTrue();
    leaf.verify(ca.trustBundle().roots().getFirst().getPublicKey());
    return leaf;
  }
}
