package dev.bowline.proxy;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A hand-driven ADS server (State of the World) on a real gRPC port: it sends exactly the responses
 * a test names, in that order, on the latest stream, and records every request.
 */
final class HandAds implements AutoCloseable {
  final AtomicReference<StreamObserver<DiscoveryResponse>> stream = new AtomicReference<>();
  final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger nonce = new AtomicInteger();
  private final Server server;
  final int port;

  HandAds(String ip) throws IOException {
    port = Ports.free(ip);
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(ip, port))
            .addService(
                new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                  @Override
                  public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                      StreamObserver<DiscoveryResponse> out) {
                    stream.set(out);
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(DiscoveryRequest r) {
                        requests.add(r);
                      }

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {
                        out.onCompleted();
                      }
                    };
                  }
                })
            .build()
            .start();
  }

  /** Waits for the proxy's stream. */
  void awaitStream() {
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.get() != null);
  }

  void send(String typeUrl, String version, Message... resources) {
    var r =
        DiscoveryResponse.newBuilder()
            .setTypeUrl(typeUrl)
            .setVersionInfo(version)
            .setNonce(String.valueOf(nonce.incrementAndGet()));
    for (Message m : resources) {
      r.addResources(Any.pack(m));
    }
    synchronized (stream) {
      stream.get().onNext(r.build());
    }
  }

  long nacks(String typeUrl) {
    return requests.stream()
        .filter(r -> r.getTypeUrl().equals(typeUrl) && r.hasErrorDetail())
        .count();
  }

  boolean acked(String typeUrl, String version) {
    return requests.stream()
        .anyMatch(
            r ->
                r.getTypeUrl().equals(typeUrl)
                    && r.getVersionInfo().equals(version)
                    && !r.hasErrorDetail());
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination();
  }
}
