package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
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
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A real grpc-java SDS client over the Unix socket, speaking SotW as Envoy does. */
final class SdsTestClient implements AutoCloseable {
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final ManagedChannel channel;
  private final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<DiscoveryRequest> requests;

  SdsTestClient(Path socket) {
    channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(group)
            .usePlaintext()
            .build();
    requests =
        SecretDiscoveryServiceGrpc.newStub(channel)
            .streamSecrets(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse value) {
                    responses.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    closed.complete(Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    closed.complete(Status.OK);
                  }
                });
  }

  /** Subscribes to {@code names} (first request, or a change of names). */
  void subscribe(String version, String nonce, String... names) {
    requests.onNext(request(version, nonce, names).build());
  }

  /** Acknowledges {@code response} for the same names. */
  void ack(DiscoveryResponse response, String... names) {
    requests.onNext(request(response.getVersionInfo(), response.getNonce(), names).build());
  }

  /** Rejects {@code response}, keeping {@code lastGoodVersion}. */
  void nack(DiscoveryResponse response, String lastGoodVersion, String... names) {
    requests.onNext(
        request(lastGoodVersion, response.getNonce(), names)
            .setErrorDetail(
                com.google.rpc.Status.newBuilder().setCode(3).setMessage("proxy rejects it"))
            .build());
  }

  private static DiscoveryRequest.Builder request(String version, String nonce, String... names) {
    return DiscoveryRequest.newBuilder()
        .setNode(Node.newBuilder().setId("sidecar~127.0.0.1~sleep-1.default~default.svc"))
        .setTypeUrl(SdsSecrets.TYPE_URL)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .addAllResourceNames(List.of(names));
  }

  /** The next response, failing the test after 10 s. */
  DiscoveryResponse next() throws InterruptedException {
    DiscoveryResponse r = responses.poll(10, TimeUnit.SECONDS);
    assertThat(r).as("an SDS response within 10 s").isNotNull();
    return r;
  }

  /** A response arriving within {@code millis}, or null. */
  @Nullable DiscoveryResponse poll(long millis) throws InterruptedException {
    return responses.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** The secrets in {@code response} by name. */
  static Map<String, Secret> secrets(DiscoveryResponse response)
      throws InvalidProtocolBufferException {
    Map<String, Secret> out = new LinkedHashMap<>();
    for (var any : response.getResourcesList()) {
      assertThat(any.getTypeUrl()).isEqualTo(SdsSecrets.TYPE_URL);
      Secret s = any.unpack(Secret.class);
      out.put(s.getName(), s);
    }
    return out;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
