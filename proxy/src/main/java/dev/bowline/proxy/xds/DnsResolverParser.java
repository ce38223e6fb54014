package dev.bowline.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.ClusterConfig.DnsResolver;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.DnsResolverOptions;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The DNS resolver of a cluster or of the bootstrap, read as Envoy's {@code makeDnsResolverConfig}
 * reads it: {@code typed_dns_resolver_config} first, then {@code dns_resolution_config}, then the
 * deprecated {@code dns_resolvers} and {@code use_tcp_for_dns_lookups}. Only c-ares ({@code
 * envoy.network.dns_resolver.cares}) is supported: the Apple resolver exists on Apple systems only,
 * and getaddrinfo's (the libc resolver on a thread, a fixed TTL of 60 s) is refused rather than
 * silently resolved another way.
 */
public final class DnsResolverParser {
  static final String CARES =
      "envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig";

  /** The fields of {@code CaresDnsResolverConfig} acted on. */
  static final java.util.Set<String> CARES_HONOURED =
      java.util.Set.of(
          "resolvers.socket_address.address",
          "resolvers.socket_address.port_value",
          "use_resolvers_as_fallback",
          "dns_resolver_options.no_default_search_domain");

  private DnsResolverParser() {}

  /**
   * The cluster's own resolver, or null when it names none (the bootstrap's is used, as Envoy's
   * {@code selectDnsResolver} shares the server's).
   */
  @SuppressWarnings("deprecation") // dns_resolvers, use_tcp_for_dns_lookups: still sent
  static @Nullable DnsResolver cluster(Cluster c) throws InvalidResourceException {
    if (c.hasTypedDnsResolverConfig()) {
      return typed(c.getTypedDnsResolverConfig(), "typed_dns_resolver_config");
    }
    if (c.hasDnsResolutionConfig()) {
      var r = c.getDnsResolutionConfig();
      return new DnsResolver(
          servers(r.getResolversList(), "dns_resolution_config.resolvers"),
          false,
          r.getDnsResolverOptions().getUseTcpForDnsLookups(),
          r.getDnsResolverOptions().getNoDefaultSearchDomain());
    }
    if (c.getDnsResolversCount() > 0 || c.getUseTcpForDnsLookups()) {
      return new DnsResolver(
          servers(c.getDnsResolversList(), "dns_resolvers"),
          false,
          c.getUseTcpForDnsLookups(),
          false);
    }
    return null;
  }

  /**
   * The bootstrap's resolver, the default of every DNS cluster without one of its own; errors name
   * the bootstrap field.
   */
  @SuppressWarnings("deprecation") // use_tcp_for_dns_lookups
  public static DnsResolver bootstrap(io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap b)
      throws InvalidResourceException {
    if (b.hasTypedDnsResolverConfig()) {
      return typed(b.getTypedDnsResolverConfig(), "typed_dns_resolver_config");
    }
    if (b.hasDnsResolutionConfig()) {
      var r = b.getDnsResolutionConfig();
      return new DnsResolver(
          servers(r.getResolversList(), "dns_resolution_config.resolvers"),
          false,
          r.getDnsResolverOptions().getUseTcpForDnsLookups(),
          r.getDnsResolverOptions().getNoDefaultSearchDomain());
    }
    return b.getUseTcpForDnsLookups()
        ? new DnsResolver(List.of(), false, true, false)
        : DnsResolver.SYSTEM;
  }

  private static DnsResolver typed(TypedExtensionConfig t, String field)
      throws InvalidResourceException {
    String url = t.getTypedConfig().getTypeUrl();
    String type = url.substring(url.lastIndexOf('/') + 1);
    if (!type.equals(CARES)) {
      throw new InvalidResourceException(
          field + ".typed_config",
          (type.isEmpty() ? "is required" : "unsupported DNS resolver " + type)
              + " (only envoy.network.dns_resolver.cares is)");
    }
    CaresDnsResolverConfig cares;
    try {
      cares =
          Anys.unpack(
              t.getTypedConfig(),
              CaresDnsResolverConfig.getDescriptor(),
              CaresDnsResolverConfig.parser());
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(field + ".typed_config", e.getMessage());
    }
    DnsResolverOptions o = cares.getDnsResolverOptions();
    return new DnsResolver(
        servers(cares.getResolversList(), field + ".typed_config.resolvers"),
        cares.getUseResolversAsFallback(),
        o.getUseTcpForDnsLookups(),
        o.getNoDefaultSearchDomain());
  }

  /** Name servers: IP addresses (c-ares takes no names), port 0 meaning 53. */
  private static List<InetSocketAddress> servers(List<Address> list, String field)
      throws InvalidResourceException {
    List<InetSocketAddress> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Address a = list.get(i);
      String at = field + "[" + i + "]";
      if (!a.hasSocketAddress()) {
        throw new InvalidResourceException(at, "must be a socket_address");
      }
      var sa = a.getSocketAddress();
      if (sa.getProtocol() != io.envoyproxy.envoy.config.core.v3.SocketAddress.Protocol.UDP
          && sa.getProtocol() != io.envoyproxy.envoy.config.core.v3.SocketAddress.Protocol.TCP) {
        throw new InvalidResourceException(at + ".socket_address.protocol", "unknown value");
      }
      InetAddress ip;
      try {
        ip = InetAddress.ofLiteral(sa.getAddress());
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(
            at + ".socket_address.address", "'" + sa.getAddress() + "' is not an IP address");
      }
      if (sa.getPortSpecifierCase()
          == io.envoyproxy.envoy.config.core.v3.SocketAddress.PortSpecifierCase.NAMED_PORT) {
        throw new InvalidResourceException(
            at + ".socket_address.named_port", "is not supported (use port_value)");
      }
      int port = sa.getPortValue();
      if (port > 65535) {
        throw new InvalidResourceException(at + ".socket_address.port_value", "must be < 65536");
      }
      out.add(new InetSocketAddress(ip, port == 0 ? 53 : port));
    }
    return out;
  }

  /** {@code typed_dns_resolver_config}'s fields not acted on, with the field's prefix. */
  static java.util.Set<String> ignored(Cluster c) {
    if (!c.hasTypedDnsResolverConfig()) {
      return java.util.Set.of();
    }
    try {
      CaresDnsResolverConfig o =
          Anys.unpack(
              c.getTypedDnsResolverConfig().getTypedConfig(),
              CaresDnsResolverConfig.getDescriptor(),
              CaresDnsResolverConfig.parser());
      java.util.Set<String> out = new java.util.TreeSet<>();
      for (String f :
          FieldAudit.ignored(o, CaresDnsResolverConfig.getDescriptor(), CARES_HONOURED)) {
        out.add("typed_dns_resolver_config.typed_config." + f);
      }
      return out;
    } catch (InvalidProtocolBufferException e) {
      return java.util.Set.of(); // parse() refused it
    }
  }
}
