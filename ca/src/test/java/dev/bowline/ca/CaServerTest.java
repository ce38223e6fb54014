package dev.bowline.ca;

import static dev.bowline.ca.TestPki.channel;
import static dev.bowline.ca.TestPki.csr;
import static dev.bowline.ca.TestPki.parseChain;
import static dev.bowline.ca.TestPki.request;
import static dev.bowline.ca.TestPki.stub;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CSR API over real gRPC with TLS on 127.0.0.1. */
class CaServerTest {
  private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

  @TempDir Path dir;
  private final SecureRandom random = new SecureRandom();
  private final TestPki.MutableClock clock = new TestPki.MutableClock(Instant.now());
  private final LocalTokenIssuer tokens = new LocalTokenIssuer(random);
  private CertificateAuthority ca;
  private CaServer server;
  private ManagedChannel channel;
  private String token;

  @BeforeEach
  void start() {
    ca =
        CertificateAuthority.open(CaConfig.defaults(new RootSource.SelfSigned(dir)), clock, random);
    server = CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
    channel = channel(server.port(), ca.trustBundle().roots(), null, List.of());
    token = tokens.issue("default", "sleep");
  }

  @AfterEach
  void stop() {
    TestPki.close(channel);
    server.close();
  }

  @Test
  void issuesAnEcdsaWorkloadCertificateShapedAsIstioDoes() throws Exception {
    KeyPair key = TestPki.ec();
    IstioCertificateResponse response =
        request(stub(channel, "Bearer " + token), csr(key, SLEEP), 0);

    assertThat(response.getCertChainCount()).isEqualTo(2);
    List<X509Certificate> chain = parseChain(response.getCertChainList());
    X509Certificate leaf = chain.getFirst();
    X509Certificate root = chain.getLast();
    assertThat(root).isEqualTo(ca.trustBundle().roots().getFirst());
    leaf.verify(root.getPublicKey());
    assertValidPath(leaf, ca.trustBundle().roots());
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic()).isInstanceOf(ECPublicKey.class);
    assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, SLEEP));
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.17", "2.5.29.15", "2.5.29.19");
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
    assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment").isTrue();
    assertThat(leaf.getKeyUsage()[5]).as("keyCertSign").isFalse();
    assertThat(leaf.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    Instant now = clock.instant();
    assertThat(leaf.getNotAfter().toInstant())
        .isBetween(now.plus(Duration.ofHours(24)).minusSeconds(1), now.plus(Duration.ofHours(24)));
    assertThat(leaf.getNotBefore().toInstant())
        .isBetween(now.minus(Duration.ofMinutes(2)).minusSeconds(1), now);
  }

  @Test
  void acceptsRsaAndHonoursTheRequestedLifetime() throws Exception {
    KeyPair key = TestPki.rsa(2048);
    IstioCertificateResponse response =
        request(stub(channel, "Bearer " + token), csr(key, SLEEP), 3600);

    X509Certificate leaf = parseChain(response.getCertChainList()).getFirst();
    assertThat(leaf.getPublicKey()).isInstanceOf(RSAPublicKey.class).isEqualTo(key.getPublic());
    assertValidPath(leaf, ca.trustBundle().roots());
    assertThat(Duration.between(clock.instant(), leaf.getNotAfter().toInstant()))
        .isBetween(Duration.ofSeconds(3599), Duration.ofSeconds(3600));
  }

  @Test
  void aCsrWithoutSanGetsTheCallersIdentity() throws Exception {
    IstioCertificateResponse response =
        request(stub(channel, "Bearer " + token), csr(TestPki.ec()), 0);

    assertThat(parseChain(response.getCertChainList()).getFirst().getSubjectAlternativeNames())
        .containsExactly(List.of(6, SLEEP));
  }

  @Test
  void renewsWithTheCurrentCertificateAsClientCertificate() throws Exception {
    KeyPair first = TestPki.ec();
    List<X509Certificate> firstChain =
        parseChain(
            request(stub(channel, "Bearer " + token), csr(first, SLEEP), 0).getCertChainList());

    ManagedChannel mtls =
        channel(
            server.port(), ca.trustBundle().roots(), first.getPrivate(), firstChain.subList(0, 1));
    try {
      KeyPair second = TestPki.ec();
      X509Certificate renewed =
          parseChain(request(stub(mtls, null), csr(second, SLEEP), 0).getCertChainList())
              .getFirst();
      assertThat(renewed.getPublicKey()).isEqualTo(second.getPublic());
      assertThat(renewed.getSubjectAlternativeNames()).containsExactly(List.of(6, SLEEP));
      assertThat(renewed.getSerialNumber()).isNotEqualTo(firstChain.getFirst().getSerialNumber());

      assertRefused(
          () ->
              request(
                  stub(mtls, null), csr(TestPki.ec(), "spiffe://cluster.local/ns/prod/sa/db"), 0),
          Status.Code.PERMISSION_DENIED,
          "csr asks for identity spiffe://cluster.local/ns/prod/sa/db but the caller is"
              + " authenticated as "
              + SLEEP);
    } finally {
      TestPki.close(mtls);
    }
  }

  @Test
  void refusesAnIdentityTheCallerDoesNotHold() {
    assertRefused(
        () ->
            request(
                stub(channel, "Bearer " + token),
                csr(TestPki.ec(), "spiffe://cluster.local/ns/weather/sa/forecast"),
                0),
        Status.Code.PERMISSION_DENIED,
        "csr asks for identity spiffe://cluster.local/ns/weather/sa/forecast but the caller is"
            + " authenticated as "
            + SLEEP);
    assertRefused(
        () ->
            request(
                stub(channel, "Bearer " + token),
                csr(TestPki.ec(), SLEEP, "spiffe://other.domain/ns/default/sa/sleep"),
                0),
        Status.Code.PERMISSION_DENIED,
        "spiffe://other.domain/ns/default/sa/sleep");
    assertServes();
  }

  @Test
  void refusesBadRequestsWithAClearReasonAndKeepsServing() {
    var authed = stub(channel, "Bearer " + token);
    String good = csr(TestPki.ec(), SLEEP);
    String body = good.substring(good.indexOf('\n') + 1, good.indexOf("-----END"));

    assertRefused(() -> request(authed, "", 0), Status.Code.INVALID_ARGUMENT, "csr: empty");
    assertRefused(
        () -> request(authed, "hello, CA", 0),
        Status.Code.INVALID_ARGUMENT,
        "csr: no PEM block '-----BEGIN CERTIFICATE REQUEST-----' found");
    assertRefused(
        () -> request(authed, good.replace(body, "!!!" + body), 0),
        Status.Code.INVALID_ARGUMENT,
        "csr: PEM body is not valid base64");
    assertRefused(
        () -> request(authed, Pem.encode("CERTIFICATE REQUEST", "not DER at all".getBytes()), 0),
        Status.Code.INVALID_ARGUMENT,
        "csr: not a valid DER PKCS#10 request");
    assertRefused(
        () -> request(authed, Pem.encode("CERTIFICATE REQUEST", tamperedSignature()), 0),
        Status.Code.INVALID_ARGUMENT,
        "csr: signature does not verify with the CSR's own public key (proof of possession"
            + " failed)");
    assertRefused(
        () -> request(authed, csr(TestPki.rsa(1024), SLEEP), 0),
        Status.Code.INVALID_ARGUMENT,
        "csr: public key: RSA 1024 bits is not supported");
    assertRefused(
        () -> request(authed, good + "X".repeat(40_000), 0),
        Status.Code.INVALID_ARGUMENT,
        "bytes exceeds the limit of 32768 bytes");
    assertRefused(
        () -> request(authed, "X".repeat(200_000), 0), Status.Code.RESOURCE_EXHAUSTED, "");
    assertRefused(
        () -> request(authed, good, Duration.ofDays(91).toSeconds()),
        Status.Code.INVALID_ARGUMENT,
        "validity_duration: 7862400s exceeds the CA's maximum of 7776000s");
    assertRefused(
        () ->
            authed.createCertificate(
                IstioCertificateRequest.newBuilder()
                    .setCsr(good)
                    .setMetadata(
                        Struct.newBuilder()
                            .putFields(
                                "ImpersonatedIdentity",
                                Value.newBuilder()
                                    .setStringValue("spiffe://cluster.local/ns/prod/sa/db")
                                    .build()))
                    .build()),
        Status.Code.PERMISSION_DENIED,
        "metadata.ImpersonatedIdentity: [" + SLEEP + "] may not request certificates");
    assertServes();
  }

  @Test
  void refusesCallersWithoutAValidCredential() {
    String good = csr(TestPki.ec(), SLEEP);
    assertRefused(
        () -> request(stub(channel, null), good, 0),
        Status.Code.UNAUTHENTICATED,
        "no credential: send gRPC metadata 'authorization: Bearer <token>' or present a client"
            + " certificate issued by this CA");
    assertRefused(
        () -> request(stub(channel, "Bearer not-a-token"), good, 0),
        Status.Code.UNAUTHENTICATED,
        "bearer token: token is unknown or revoked");
    assertRefused(
        () -> request(stub(channel, "Basic dXNlcjpwYXNz"), good, 0),
        Status.Code.UNAUTHENTICATED,
        "bearer token: 'authorization' metadata must be 'Bearer <token>'");
    tokens.revoke(token);
    assertRefused(
        () -> request(stub(channel, "Bearer " + token), good, 0),
        Status.Code.UNAUTHENTICATED,
        "bearer token: token is unknown or revoked");
    token = tokens.issue("default", "sleep");
    assertServes();
  }

  @Test
  void refusesAnExpiredClientCertificate() throws Exception {
    // Issue a one-hour certificate two hours ago, then present it now.
    Instant now = clock.instant();
    clock.set(now.minus(Duration.ofHours(2)));
    KeyPair old = TestPki.ec();
    IssuedCertificate expired =
        ca.sign(csr(old, SLEEP), Set.of(WorkloadIdentity.parse(SLEEP)), Duration.ofHours(1));
    clock.set(now);
    ManagedChannel mtls =
        channel(
            server.port(),
            ca.trustBundle().roots(),
            old.getPrivate(),
            parseChain(List.of(expired.leafPem())));
    try {
      assertRefused(
          () -> request(stub(mtls, null), csr(TestPki.ec(), SLEEP), 0),
          Status.Code.UNAUTHENTICATED,
          "client certificate: expired at " + expired.notAfter());
      // With a valid token as well, the token decides.
      assertThat(
              request(stub(mtls, "Bearer " + token), csr(TestPki.ec(), SLEEP), 0)
                  .getCertChainCount())
          .isEqualTo(2);
    } finally {
      TestPki.close(mtls);
    }
    assertServes();
  }

  @Test
  void refusesAClientCertificateFromAnotherCa(@TempDir Path otherDir) {
    CertificateAuthority other =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(otherDir)), clock, random);
    KeyPair key = TestPki.ec();
    IssuedCertificate foreign =
        other.sign(csr(key, SLEEP), Set.of(WorkloadIdentity.parse(SLEEP)), Duration.ZERO);
    ManagedChannel mtls =
        channel(
            server.port(),
            ca.trustBundle().roots(),
            key.getPrivate(),
            parseChain(List.of(foreign.leafPem())));
    try {
      assertRefused(
          () -> request(stub(mtls, null), csr(TestPki.ec(), SLEEP), 0),
          Status.Code.UNAUTHENTICATED,
          "client certificate: is not signed by a root this CA trusts (issuer "
              + other.signingCertificate().getSubjectX500Principal()
              + ")");
    } finally {
      TestPki.close(mtls);
    }
    assertServes();
  }

  @Test
  void concurrentGoodAndBadCallersEachGetTheirOwnAnswer() throws Exception {
    String good = csr(TestPki.ec(), SLEEP);
    String foreign = csr(TestPki.ec(), "spiffe://cluster.local/ns/prod/sa/db");
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Status.Code>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        int kind = i % 4;
        results.add(
            pool.submit(
                () -> {
                  try {
                    switch (kind) {
                      case 0 -> request(stub(channel, "Bearer " + token), good, 0);
                      case 1 -> request(stub(channel, "Bearer " + token), "garbage", 0);
                      case 2 -> request(stub(channel, "Bearer " + token), foreign, 0);
                      default -> request(stub(channel, null), good, 0);
                    }
                    return Status.Code.OK;
                  } catch (StatusRuntimeException e) {
                    return e.getStatus().getCode();
                  }
                }));
      }
      for (int i = 0; i < results.size(); i++) {
        Status.Code expected =
            switch (i % 4) {
              case 0 -> Status.Code.OK;
              case 1 -> Status.Code.INVALID_ARGUMENT;
              case 2 -> Status.Code.PERMISSION_DENIED;
              default -> Status.Code.UNAUTHENTICATED;
            };
        assertThat(results.get(i).get()).as("request %d", i).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theServerCertificateIsReissuedAtHalfLife() throws Exception {
    X509Certificate first = server.servingChain().getFirst();
    assertThat(first.getSubjectAlternativeNames())
        .contains(List.of(2, "istiod.istio-system.svc"), List.of(7, "127.0.0.1"));
    assertThat(server.servingChain().getFirst()).isEqualTo(first);
    clock.set(clock.instant().plus(Duration.ofHours(13)));
    X509Certificate second = server.servingChain().getFirst();
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(second.getNotAfter()).isAfter(first.getNotAfter());
    second.verify(ca.signingCertificate().getPublicKey());
  }

  private byte[] tamperedSignature() {
    byte[] der = TestPki.csrDer(TestPki.ec(), SLEEP);
    der[der.length - 5] ^= 0x01; // inside the signature's INTEGER s
    return der;
  }

  private void assertServes() {
    KeyPair key = TestPki.ec();
    IstioCertificateResponse ok = request(stub(channel, "Bearer " + token), csr(key, SLEEP), 0);
    assertThat(parseChain(ok.getCertChainList()).getFirst().getPublicKey())
        .isEqualTo(key.getPublic());
  }

  static void assertRefused(ThrowingCallable call, Status.Code code, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(String.valueOf(e.getStatus().getDescription())).contains(message);
            });
  }

  static void assertValidPath(X509Certificate leaf, List<X509Certificate> roots) throws Exception {
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate r : roots) {
      anchors.add(new TrustAnchor(r, null));
    }
    PKIXParameters params = new PKIXParameters(anchors);
    params.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), params);
  }
}
