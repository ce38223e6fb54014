package dev.bowline.proxy.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Where a cluster's upstream connections bind before they connect: Envoy's {@code
 * upstream_bind_config} of the cluster or, for a cluster without one, the bootstrap's {@code
 * cluster_manager.upstream_bind_config}. Istio's inbound passthrough clusters bind to 127.0.0.6 so
 * the application sees mesh traffic from that address.
 *
 * @param source {@code source_address}; null when unset (the kernel picks the address)
 * @param extra {@code extra_source_addresses[0].address}: of the other IP family than {@code
 *     source}, taken for peers of its family; null when unset
 * @param freebind {@code freebind} (IP_FREEBIND: bind to an address not configured on the host),
 *     the cluster's when it sets one, else the bootstrap's
 */
public record UpstreamBind(
    @Nullable InetSocketAddress source, @Nullable InetSocketAddress extra, boolean freebind) {

  /** Nothing set: the kernel chooses the source address. */
  public static final UpstreamBind NONE = new UpstreamBind(null, null, false);

  /**
   * The local address for a connection to {@code peer}, as Envoy's default local address selector:
   * the configured address of the peer's IP family, else {@code source}; null for none.
   */
  public @Nullable InetSocketAddress localFor(InetAddress peer) {
    if (extra != null && source != null && family(extra) != family(source)) {
      if (family(extra) == (peer instanceof Inet6Address)) {
        return extra;
      }
    }
    return source;
  }

  private static boolean family(InetSocketAddress a) {
    return a.getAddress() instanceof Inet6Address;
  }
}
