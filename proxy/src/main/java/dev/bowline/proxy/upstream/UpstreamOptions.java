package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.UpstreamBind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;

/** Socket options of upstream connections from a cluster's config. */
final class UpstreamOptions {
  private UpstreamOptions() {}

  /**
   * {@code upstream_connection_options.tcp_keepalive}: SO_KEEPALIVE, and the probe timings where
   * the transport can set them (epoll); elsewhere the system's timings apply.
   */
  static void keepalive(Bootstrap b, ClusterPolicy.TcpKeepalive k) {
    b.option(ChannelOption.SO_KEEPALIVE, true);
    if (!io.netty.channel.epoll.Epoll.isAvailable()) {
      return;
    }
    if (k.idleSeconds() > 0) {
      b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPIDLE, k.idleSeconds());
    }
    if (k.intervalSeconds() > 0) {
      b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPINTVL, k.intervalSeconds());
    }
    if (k.probes() > 0) {
      b.option(io.netty.channel.epoll.EpollChannelOption.TCP_KEEPCNT, k.probes());
    }
  }

  /**
   * {@code upstream_bind_config}: binds the connection to {@code remote} to the local address of
   * its IP family, and sets IP_FREEBIND where the transport has it (epoll, io_uring; elsewhere
   * freebind is not set and a bind to an address the host lacks fails the connect).
   */
  static void bind(
      Bootstrap b, UpstreamBind bind, InetSocketAddress remote, Class<?> channelClass) {
    if (bind.source() == null && !bind.freebind()) {
      return;
    }
    InetSocketAddress local = bind.localFor(remote.getAddress());
    if (local != null) {
      b.localAddress(local);
    }
    if (bind.freebind()) {
      String name = channelClass.getName();
      if (name.startsWith("io.netty.channel.epoll.")) {
        b.option(io.netty.channel.epoll.EpollChannelOption.IP_FREEBIND, true);
      } else if (name.startsWith("io.netty.channel.uring.")) {
        b.option(io.netty.channel.uring.IoUringChannelOption.IP_FREEBIND, true);
      }
    }
  }
}
