package dev.bowline.proxy;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Optional;

/**
 * Static clusters that reach a gRPC service over a Unix domain socket, as Istio's bootstrap reaches
 * the agent's SDS server: {@code sds-grpc} with one endpoint {@code pipe: {path: ...}}. Such a
 * cluster carries no data traffic, so it is kept apart from the data-path clusters.
 */
final class SdsClusters {
  private SdsClusters() {}

  /** The pipe path when every endpoint of {@code c} is a {@code pipe} (there is at least one). */
  static Optional<String> pipePath(Cluster c) {
    String path = null;
    for (var locality : c.getLoadAssignment().getEndpointsList()) {
      for (var lbe : locality.getLbEndpointsList()) {
        var a = lbe.getEndpoint().getAddress();
        if (!a.hasPipe()) {
          return Optional.empty();
        }
        path = a.getPipe().getPath();
      }
    }
    return Optional.ofNullable(path);
  }

  /** A plaintext gRPC channel over the Unix socket {@code path} on {@code group} (epoll). */
  static ManagedChannel unixChannel(String path, EventLoopGroup group) {
    return NettyChannelBuilder.forAddress(new DomainSocketAddress(path))
        .eventLoopGroup(group)
        .channelType(EpollDomainSocketChannel.class)
        .usePlaintext()
        .build();
  }

  /** One epoll loop for the proxy's Unix-socket gRPC channels. */
  static EventLoopGroup newGroup() {
    if (!Epoll.isAvailable()) {
      throw new dev.bowline.proxy.bootstrap.BootstrapException(
          "pipe addresses need epoll (Linux): " + Epoll.unavailabilityCause());
    }
    return new MultiThreadIoEventLoopGroup(
        1, new DefaultThreadFactory("bowline-sds", true), EpollIoHandler.newFactory());
  }
}
