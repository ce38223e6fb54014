package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterPolicy;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;

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
}
