package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.ca.TrustBundle;
import dev.bowline.ca.WorkloadIdentity;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDS server alone, on a settable certificate source (no CA), as proxy tests can use it. */
class SdsServerTest {
  private static final WorkloadIdentity ID =
      new WorkloadIdentity("cluster.local", "weather", "forecast");

  @TempDir Path dir;
  private final TestIssuer issuer = new TestIssuer("sds test root");
  private final SettableCertificateSource source = new SettableCertificateSource();
  private SdsServer sds;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("socket"), "stale");
    sds = SdsServer.start(source, dir.resolve("socket"), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    sds.close();
  }

  private WorkloadCertificate certificate() {
    KeyPair key = TestIssuer.ec();
    return new WorkloadCertificate(
        key.getPrivate(),
        List.of(issuer.leaf(key.getPublic(), ID.spiffeId())),
        new TrustBundle(List.of(issuer.root)),
        Instant.now());
  }

  @Test
  void replacesAStaleSocketAndPushesEverySetToEveryStream() throws Exception {
    try (SdsTestClient a = new SdsTestClient(sds.socket());
        SdsTestClient b = new SdsTestClient(sds.socket())) {
      a.subscribe("", "", "default", "ROOTCA");
      b.subscribe("", "", "ROOTCA");
      WorkloadCertificate first = certificate();
      source.set(first);
      Map<String, Secret> fromA = SdsTestClient.secrets(a.next());
      assertThat(fromA).containsOnlyKeys("default", "ROOTCA");
      assertThat(
              fromA
                  .get("default")
                  .getTlsCertificate()
                  .getCertificateChain()
                  .getInlineBytes()
                  .toString(StandardCharsets.US_ASCII))
          .isEqualTo(first.chainPem());
      assertThat(SdsTestClient.secrets(b.next())).containsOnlyKeys("ROOTCA");

      source.set(certificate()); // same bundle, new leaf: only a's default changes
      assertThat(SdsTestClient.secrets(a.next())).containsOnlyKeys("default");
      assertThat(b.poll(300)).isNull();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sds.openStreams() == 0);
  }

  /**
   * A request answered from the source's current certificate before that certificate's push reaches
   * the stream: the push must not send the same certificate again (the stream diffs against what it
   * sent, not against the server's last push). The source here updates {@code current} and tells
   * its listeners in two steps, so the interleaving CI once hit by chance is forced.
   */
  @Test
  void aRequestAnsweredBeforeItsCertificatesPushGetsNoDuplicate() throws Exception {
    TwoStepSource twoStep = new TwoStepSource();
    try (SdsServer server = SdsServer.start(twoStep, dir.resolve("two-step"), Clock.systemUTC());
        SdsTestClient a = new SdsTestClient(server.socket())) {
      WorkloadCertificate first = certificate();
      twoStep.current = first; // the source has it; its push has not run yet
      a.subscribe("", "", "default", "ROOTCA");
      assertThat(SdsTestClient.secrets(a.next())).containsOnlyKeys("default", "ROOTCA");

      twoStep.notifyListeners(first); // the late push of the certificate a already has
      WorkloadCertificate second = certificate();
      twoStep.current = second;
      twoStep.notifyListeners(second); // same bundle, new leaf
      Map<String, Secret> next = SdsTestClient.secrets(a.next());
      assertThat(next).containsOnlyKeys("default");
      assertThat(
              next.get("default")
                  .getTlsCertificate()
                  .getCertificateChain()
                  .getInlineBytes()
                  .toString(StandardCharsets.US_ASCII))
          .isEqualTo(second.chainPem());
    }
  }

  /** A certificate source whose update of {@code current} and whose push are separate steps. */
  private static final class TwoStepSource implements CertificateSource {
    volatile @Nullable WorkloadCertificate current;
    private final List<Consumer<WorkloadCertificate>> listeners = new CopyOnWriteArrayList<>();

    @Override
    public Optional<WorkloadCertificate> current() {
      return Optional.ofNullable(current);
    }

    @Override
    public void subscribe(Consumer<WorkloadCertificate> listener) {
      listeners.add(listener);
    }

    void notifyListeners(WorkloadCertificate cert) {
      listeners.forEach(l -> l.accept(cert));
    }
  }

  @Test
  void refusesAnotherTypeAndDeltaSecrets() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(sds.socket().toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(group)
            .usePlaintext()
            .build();
    try {
      CompletableFuture<Status> sotw = new CompletableFuture<>();
      SecretDiscoveryServiceGrpc.newStub(channel)
          .streamSecrets(observer(sotw))
          .onNext(
              DiscoveryRequest.newBuilder()
                  .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
                  .addResourceNames("default")
                  .build());
      Status s = sotw.get(10, TimeUnit.SECONDS);
      assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(s.getDescription())
          .isEqualTo(
              "type_url: this server serves only"
                  + " type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret, not"
                  + " type.googleapis.com/envoy.config.cluster.v3.Cluster");

      CompletableFuture<Status> delta = new CompletableFuture<>();
      SecretDiscoveryServiceGrpc.newStub(channel)
          .deltaSecrets(observer(delta))
          .onNext(DeltaDiscoveryRequest.newBuilder().addResourceNamesSubscribe("default").build());
      assertThat(delta.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<Status> closed) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    };
  }
}
