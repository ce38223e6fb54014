package dev.bowline.proxy.network;

import io.netty.channel.Channel;

/**
 * An upstream network filter of a cluster ({@code Cluster.filters}), built once from its config.
 * Installed on every raw (TCP proxied) upstream connection of the cluster, between the transport
 * socket and the relay.
 */
@FunctionalInterface
public interface UpstreamFilter {
  /**
   * Adds this filter's handler to the new upstream connection {@code upstream}, which relays for
   * {@code downstream}; called on their (shared) event loop before the upstream connects.
   */
  void install(Channel upstream, Channel downstream);
}
