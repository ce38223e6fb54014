package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.UpstreamBind;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * {@code upstream_bind_config} ({@link BindConfig}) → {@link UpstreamBind}, with Envoy's rules
 * ({@code DefaultUpstreamLocalAddressSelector}): a cluster's own bind config replaces the
 * bootstrap's addresses, its {@code freebind}, when set, the bootstrap's; at most one extra source
 * address, of the other IP family, and only with a {@code source_address}.
 */
public final class BindParser {
  private BindParser() {}

  /** The fields of a {@link BindConfig} acted on, relative to it. */
  static final Set<String> HONOURED =
      Set.of(
          "source_address.address",
          "source_address.port_value",
          "source_address.protocol",
          "freebind",
          "extra_source_addresses.address.address",
          "extra_source_addresses.address.port_value",
          "extra_source_addresses.address.protocol");

  /**
   * The bind of a cluster: {@code cluster} when {@code clusterHas}, else {@code bootstrap}'s
   * addresses; errors name {@code field} (the cluster's {@code upstream_bind_config}).
   */
  static UpstreamBind resolve(
      boolean clusterHas, BindConfig cluster, UpstreamBind bootstrap, String field)
      throws InvalidResourceException {
    if (!clusterHas) {
      return bootstrap;
    }
    UpstreamBind own = parse(cluster, field);
    boolean freebind = cluster.hasFreebind() ? own.freebind() : bootstrap.freebind();
    return new UpstreamBind(own.source(), own.extra(), freebind);
  }

  /**
   * One bind config on its own ({@code cluster_manager.upstream_bind_config} of a bootstrap, or a
   * cluster's); errors name {@code field}.
   */
  public static UpstreamBind parse(BindConfig b, String field) throws InvalidResourceException {
    if (b.getAdditionalSourceAddressesCount() > 0) {
      throw new InvalidResourceException(
          field + ".additional_source_addresses",
          "is deprecated and not supported: use extra_source_addresses");
    }
    if (b.getExtraSourceAddressesCount() > 1) {
      throw new InvalidResourceException(
          field + ".extra_source_addresses", "at most one extra source address is supported");
    }
    if (b.getExtraSourceAddressesCount() > 0 && !b.hasSourceAddress()) {
      throw new InvalidResourceException(
          field + ".source_address", "is required when extra_source_addresses is set");
    }
    InetSocketAddress source =
        b.hasSourceAddress() ? address(b.getSourceAddress(), field + ".source_address") : null;
    InetSocketAddress extra = null;
    if (b.getExtraSourceAddressesCount() == 1) {
      String f = field + ".extra_source_addresses[0].address";
      var e = b.getExtraSourceAddresses(0);
      if (!e.hasAddress()) {
        throw new InvalidResourceException(f, "is required");
      }
      extra = address(e.getAddress(), f);
      if (source != null
          && (extra.getAddress() instanceof java.net.Inet6Address)
              == (source.getAddress() instanceof java.net.Inet6Address)) {
        throw new InvalidResourceException(
            f, "must be of the other IP family than source_address (IPv4 and IPv6, one each)");
      }
    }
    return new UpstreamBind(source, extra, b.getFreebind().getValue());
  }

  private static InetSocketAddress address(SocketAddress s, String field)
      throws InvalidResourceException {
    if (s.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new InvalidResourceException(field + ".protocol", "only TCP is supported");
    }
    if (s.hasNamedPort() || !s.getResolverName().isEmpty()) {
      throw new InvalidResourceException(field, "named ports and resolvers are not supported");
    }
    InetAddress ip;
    try {
      ip = InetAddress.ofLiteral(s.getAddress());
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(
          field + ".address", "'" + s.getAddress() + "' is not an IP address");
    }
    return new InetSocketAddress(ip, s.getPortValue());
  }
}
