package dev.bowline.agent.bench;

import dev.bowline.agent.AgentConfig;
import dev.bowline.agent.CaTrust;
import dev.bowline.agent.CertificateManager;
import dev.bowline.agent.SdsServer;
import dev.bowline.agentstatus.Scheduler;
import dev.bowline.ca.CaConfig;
import dev.bowline.ca.CaServer;
import dev.bowline.ca.CaServerConfig;
import dev.bowline.ca.CertificateAuthority;
import dev.bowline.ca.LocalTokenIssuer;
import dev.bowline.ca.RootSource;
import dev.bowline.ca.WorkloadIdentity;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Starts a CA on 127.0.0.1, then, per round, a fresh agent (certificate manager + SDS server) with
 * an SDS client already subscribed to {@code default}, as a proxy would be, and times {@code
 * start()} to (a) the validated certificate in hand and (b) the SDS response at the client. Prints
 * the first (cold JVM) round and percentiles of the warm rounds.
 *
 * <p>Usage: {@code TimeToFirstCertificate [warmup] [rounds]} (default 30 and 200).
 */
public final class TimeToFirstCertificate {
  private TimeToFirstCertificate() {}

  public static void main(String[] args) throws Exception {
    int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    SecureRandom random = new SecureRandom();
    Path dir = Files.createTempDirectory("bowline-bench-agent");
    CertificateAuthority ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(dir.resolve("ca"))),
            Clock.systemUTC(),
            random);
    LocalTokenIssuer tokens = new LocalTokenIssuer(random);
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    long[] cert = new long[rounds];
    long[] sds = new long[rounds];
    long coldCert = 0;
    long coldSds = 0;
    try (CaServer server =
        CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens)) {
      WorkloadIdentity id = new WorkloadIdentity("cluster.local", "bench", "agent");
      String token = tokens.issue("bench", "agent");
      for (int i = -warmup - 1; i < rounds; i++) {
        AgentConfig config =
            AgentConfig.defaults(
                id, "127.0.0.1", server.port(), new CaTrust.Fixed(ca.trustBundle()), token);
        Path socket = dir.resolve("sds-" + (i + warmup + 1));
        try (CertificateManager manager =
                new CertificateManager(config, Clock.systemUTC(), Scheduler.of(executor), random);
            SdsServer sdsServer = SdsServer.start(manager, socket, Clock.systemUTC())) {
          ManagedChannel channel =
              NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                  .channelType(EpollDomainSocketChannel.class)
                  .eventLoopGroup(clientGroup)
                  .usePlaintext()
                  .build();
          CompletableFuture<Long> delivered = new CompletableFuture<>();
          StreamObserver<DiscoveryRequest> requests =
              SecretDiscoveryServiceGrpc.newStub(channel)
                  .streamSecrets(
                      new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse value) {
                          delivered.complete(System.nanoTime());
                        }

                        @Override
                        public void onError(Throwable t) {
                          delivered.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {}
                      });
          requests.onNext(
              DiscoveryRequest.newBuilder()
                  .setNode(Node.newBuilder().setId("bench"))
                  .addResourceNames("default")
                  .build());
          while (sdsServer.openStreams() == 0) {
            Thread.sleep(1);
          }
          Thread.sleep(5); // let the request reach the server before the clock starts
          long t0 = System.nanoTime();
          manager.start();
          long tCert =
              manager
                  .firstCertificate()
                  .thenApply(c -> System.nanoTime())
                  .get(30, TimeUnit.SECONDS);
          long tSds = delivered.get(30, TimeUnit.SECONDS);
          if (i == -warmup - 1) {
            coldCert = tCert - t0;
            coldSds = tSds - t0;
          } else if (i >= 0) {
            cert[i] = tCert - t0;
            sds[i] = tSds - t0;
          }
          requests.onCompleted();
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
    } finally {
      executor.shutdownNow();
      clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    System.out.printf(
        "time to first certificate, ECDSA P-256, CA on 127.0.0.1, %d warm rounds after %d warm-up%n",
        rounds, warmup);
    System.out.printf("%-34s %8s %8s %8s %8s%n", "", "cold", "p50", "p90", "p99");
    row("certificate validated in hand (ms)", coldCert, cert);
    row("delivered over SDS to a client (ms)", coldSds, sds);
  }

  private static void row(String what, long cold, long[] warm) {
    long[] s = warm.clone();
    Arrays.sort(s);
    System.out.printf(
        "%-34s %8.2f %8.2f %8.2f %8.2f%n",
        what, cold / 1e6, pct(s, 50) / 1e6, pct(s, 90) / 1e6, pct(s, 99) / 1e6);
  }

  private static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }
}
