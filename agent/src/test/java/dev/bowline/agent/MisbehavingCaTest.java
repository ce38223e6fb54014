package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.ca.TrustBundle;
import dev.bowline.ca.WorkloadIdentity;
import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateResponse;
import dev.bowline.ca.proto.IstioCertificateServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CA at the edge of the system that answers what each test tells it to, over real gRPC/TLS: bad
 * answers are refused with a clear log line and never replace the certificate being served.
 */
class MisbehavingCaTest {
  private static final WorkloadIdentity SLEEP =
      new WorkloadIdentity("cluster.local", "default", "sleep");

  @TempDir Path runDir;
  private final TestIssuer issuer = new TestIssuer("test mesh root");
  private final AtomicReference<Function<IstioCertificateRequest, List<String>>> answer =
      new AtomicReference<>();
  private final ManualTime time = new ManualTime(Instant.now());
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final Logger jul = Logger.getLogger(CertificateManager.class.getName());
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          log.add(new SimpleFormatter().formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private Server fakeCa;
  private CertificateManager manager;
  private SdsServer sds;
  private SdsTestClient client;

  @BeforeEach
  void start() throws Exception {
    KeyPair serverKey = TestIssuer.ec();
    X509Certificate serverCert = issuer.leaf(serverKey.getPublic(), AgentConfig.ISTIOD_NAME);
    fakeCa =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(
                GrpcSslContexts.configure(
                        SslContextBuilder.forServer(
                            serverKey.getPrivate(), serverCert, issuer.root))
                    .build())
            .addService(
                new IstioCertificateServiceGrpc.IstioCertificateServiceImplBase() {
                  @Override
                  public void createCertificate(
                      IstioCertificateRequest request,
                      StreamObserver<IstioCertificateResponse> out) {
                    out.onNext(
                        IstioCertificateResponse.newBuilder()
                            .addAllCertChain(answer.get().apply(request))
                            .build());
                    out.onCompleted();
                  }
                })
            .build()
            .start();
    AgentConfig config =
        AgentConfig.defaults(
            SLEEP,
            "127.0.0.1",
            ((InetSocketAddress) fakeCa.getListenSockets().getFirst()).getPort(),
            new CaTrust.Fixed(new TrustBundle(List.of(issuer.root))),
            "token");
    manager = new CertificateManager(config, time, time, new SecureRandom());
    sds = SdsServer.start(manager, runDir.resolve("socket"), time);
    client = new SdsTestClient(sds.socket());
    jul.addHandler(capture);
  }

  @AfterEach
  void stop() throws Exception {
    jul.removeHandler(capture);
    client.close();
    sds.close();
    manager.close();
    fakeCa.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private List<String> signedAs(IstioCertificateRequest request, String san) {
    return List.of(
        Pem.certificates(List.of(issuer.leaf(TestIssuer.csrKey(request.getCsr()), san))),
        Pem.certificates(List.of(issuer.root)));
  }

  @Test
  void badAnswersAreRefusedWithAReasonAndNeverReplaceTheServedCertificate() throws Exception {
    answer.set(r -> signedAs(r, SLEEP.spiffeId()));
    manager.start();
    time.runDue();
    WorkloadCertificate good = manager.firstCertificate().get(10, TimeUnit.SECONDS);
    client.subscribe("", "", "default", "ROOTCA");
    DiscoveryResponse served = client.next();
    client.ack(served, "default", "ROOTCA");

    TestIssuer stranger = new TestIssuer("someone else's root");
    KeyPair otherKey = TestIssuer.ec();
    List<Bad> bad =
        List.of(
            new Bad(
                r -> signedAs(r, "spiffe://cluster.local/ns/prod/sa/db"),
                "CA answer rejected: cert_chain[0]: subjectAltName [URI:spiffe://cluster.local/ns/prod/sa/db]"
                    + " is not exactly the requested identity spiffe://cluster.local/ns/default/sa/sleep"),
            new Bad(
                r -> signedAs(r, "sleep.default.svc"),
                "CA answer rejected: cert_chain[0]: subjectAltName [DNS:sleep.default.svc] is not"
                    + " exactly the requested identity spiffe://cluster.local/ns/default/sa/sleep"),
            new Bad(
                r ->
                    List.of(
                        Pem.certificates(
                            List.of(
                                issuer.leaf(
                                    TestIssuer.csrKey(r.getCsr()), SLEEP.spiffeId(), true))),
                        Pem.certificates(List.of(issuer.root))),
                "CA answer rejected: cert_chain[0]: the leaf is a CA certificate"),
            new Bad(
                r -> List.of("hello", "world"),
                "CA answer rejected: cert_chain[0]: not PEM X.509 certificates"),
            new Bad(
                r -> List.of(signedAs(r, SLEEP.spiffeId()).getFirst()),
                "CA answer rejected: cert_chain: expected the leaf and the trust bundle, got 1"
                    + " element(s)"),
            new Bad(
                r ->
                    List.of(
                        Pem.certificates(
                            List.of(issuer.leaf(otherKey.getPublic(), SLEEP.spiffeId()))),
                        Pem.certificates(List.of(issuer.root))),
                "CA answer rejected: cert_chain[0]: the leaf's public key is not the key this agent"
                    + " put in its CSR"),
            new Bad(
                r ->
                    List.of(
                        Pem.certificates(
                            List.of(
                                stranger.leaf(TestIssuer.csrKey(r.getCsr()), SLEEP.spiffeId()))),
                        Pem.certificates(List.of(issuer.root))),
                "CA answer rejected: cert_chain: the leaf does not chain to the returned trust"
                    + " bundle"),
            new Bad(
                r ->
                    List.of(
                        Pem.certificates(
                            List.of(
                                stranger.leaf(TestIssuer.csrKey(r.getCsr()), SLEEP.spiffeId()))),
                        Pem.certificates(List.of(stranger.root))),
                "CA answer rejected: cert_chain[1]: the trust bundle shares no root with the roots"
                    + " this agent trusts"));

    for (Bad b : bad) {
      log.clear();
      answer.set(b.answer());
      time.advance(Duration.between(time.instant(), time.nextDue()));
      assertThat(log)
          .as(b.reason())
          .anySatisfy(
              line ->
                  assertThat(line)
                      .startsWith("event=certificate_request_failed identity=" + SLEEP.spiffeId())
                      .contains("serving=" + good.serial())
                      .contains("reason=\"" + b.reason()));
      assertThat(manager.current()).contains(good);
    }
    assertThat(client.poll(200)).as("nothing pushed for bad answers").isNull();

    // The CA recovers: the next good answer is served.
    answer.set(r -> signedAs(r, SLEEP.spiffeId()));
    time.advance(Duration.between(time.instant(), time.nextDue()));
    assertThat(manager.current().orElseThrow().serial()).isNotEqualTo(good.serial());
    assertThat(SdsTestClient.secrets(client.next())).containsOnlyKeys("default");
  }

  @Test
  void withoutAGoodAnswerNothingIsServed() throws Exception {
    answer.set(r -> signedAs(r, "spiffe://cluster.local/ns/prod/sa/db"));
    client.subscribe("", "", "default");
    manager.start();
    time.runDue();
    time.advance(Duration.ofSeconds(5));

    assertThat(manager.current()).isEmpty();
    assertThat(manager.firstCertificate()).isNotDone();
    assertThat(client.poll(200)).isNull();
    assertThat(log).allSatisfy(line -> assertThat(line).contains("serving=none"));
    assertThat(log).hasSizeGreaterThanOrEqualTo(2);
  }

  private record Bad(Function<IstioCertificateRequest, List<String>> answer, String reason) {}
}
