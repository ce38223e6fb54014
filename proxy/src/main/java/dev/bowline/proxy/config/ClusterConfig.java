package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A cluster.
 *
 * @param name xDS name
 * @param discovery where endpoints come from
 * @param lbPolicy how an endpoint is chosen
 * @param connectTimeout upstream connect timeout
 * @param http2 speak HTTP/2 (prior knowledge) upstream instead of HTTP/1.1
 * @param maxRequestsPerConnection zero means unlimited
 * @param policy load-balancer parameters, circuit breakers, outlier detection, pool limits
 * @param transport plaintext or TLS per endpoint ({@code transport_socket}, {@code
 *     transport_socket_matches})
 * @param upstreamFilters {@code filters}: the network filters on each raw (TCP proxied) upstream
 *     connection, in order
 * @param metadata {@code metadata.filter_metadata}: per filter namespace, what the cluster tells
 *     filters that look at it (Istio's stats read {@code istio.services}), and access logs ({@code
 *     %CLUSTER_METADATA(...)%})
 * @param autoSni {@code typed_extension_protocol_options[HttpProtocolOptions]
 *     .upstream_http_protocol_options}
 * @param bind where upstream connections bind ({@code upstream_bind_config}, else the bootstrap's
 *     {@code cluster_manager.upstream_bind_config})
 * @param closeOnHealthFailure {@code close_connections_on_host_health_failure}: when active health
 *     checking finds a host unhealthy, every connection to it closes, busy ones included
 * @param statName the name of its stats, {@code cluster.<statName>.*} and the Prometheus tag {@code
 *     envoy_cluster_name}: {@code alt_stat_name}, else {@code name} (Envoy's observability name)
 */
public record ClusterConfig(
    String name,
    Discovery discovery,
    LbPolicy lbPolicy,
    Duration connectTimeout,
    boolean http2,
    int maxRequestsPerConnection,
    ClusterPolicy policy,
    dev.bowline.proxy.tls.UpstreamTransport transport,
    java.util.List<dev.bowline.proxy.network.UpstreamFilter> upstreamFilters,
    java.util.Map<String, com.google.protobuf.Struct> metadata,
    UpstreamBind bind,
    AutoSni autoSni,
    String statName,
    boolean closeOnHealthFailure) {
  public ClusterConfig {
    java.util.Objects.requireNonNull(bind, "bind");
    if (statName.isEmpty()) {
      statName = name;
    }
    upstreamFilters = java.util.List.copyOf(upstreamFilters);
    metadata = java.util.Map.copyOf(metadata);
  }

  /** Where a cluster's endpoints come from. */
  public sealed interface Discovery permits Static, Eds, Dns, OriginalDst {}

  /** {@code STATIC}: the endpoints written in the cluster. */
  public record Static(Endpoints endpoints) implements Discovery {}

  /** {@code EDS}: the endpoints arrive by EDS under {@code serviceName}. */
  public record Eds(String serviceName) implements Discovery {}

  /**
   * {@code STRICT_DNS} (every address of every host) or {@code LOGICAL_DNS} (the first address of
   * the first host), resolved off the event loops every {@code refresh}.
   *
   * @param family {@code dns_lookup_family}: which of the resolved addresses are taken
   * @param failureBase {@code dns_failure_refresh_rate.base_interval}: after a failed lookup the
   *     next comes after a jittered exponential backoff from this up to {@code failureMax}; zero
   *     when unset (a failed lookup is retried after {@code refresh}, as Envoy)
   * @param failureMax {@code dns_failure_refresh_rate.max_interval} (Envoy's default: ten times the
   *     base)
   * @param respectTtl {@code respect_dns_ttl}: after a successful lookup the next comes after the
   *     answer's TTL (the smallest of the addresses taken; LOGICAL_DNS: the first address's) rather
   *     than {@code refresh}, unless that TTL is 0 (Envoy's {@code strict_dns_cluster.cc})
   * @param resolver the cluster's own resolver ({@code typed_dns_resolver_config}, {@code
   *     dns_resolution_config}, {@code dns_resolvers}/{@code use_tcp_for_dns_lookups}); null: the
   *     bootstrap's
   */
  public record Dns(
      java.util.List<HostPort> hosts,
      boolean logical,
      Duration refresh,
      LookupFamily family,
      Duration failureBase,
      Duration failureMax,
      boolean respectTtl,
      @Nullable DnsResolver resolver)
      implements Discovery {
    public Dns {
      hosts = java.util.List.copyOf(hosts);
    }

    /** Without {@code respect_dns_ttl}, on the bootstrap's resolver. */
    public Dns(
        java.util.List<HostPort> hosts,
        boolean logical,
        Duration refresh,
        LookupFamily family,
        Duration failureBase,
        Duration failureMax) {
      this(hosts, logical, refresh, family, failureBase, failureMax, false, null);
    }

    /** Envoy's defaults: AUTO, failed lookups retried after {@code refresh}. */
    public Dns(java.util.List<HostPort> hosts, boolean logical, Duration refresh) {
      this(hosts, logical, refresh, LookupFamily.AUTO, Duration.ZERO, Duration.ZERO);
    }

    /**
     * Milliseconds to the next lookup after a successful one whose answer's TTL was {@code
     * ttlSeconds} (0 when the answer had none: {@code /etc/hosts}, an IP address): the TTL with
     * {@code respect_dns_ttl} unless it is 0, else the refresh rate. Envoy takes the TTL even when
     * it is below {@code dns_refresh_rate}.
     */
    public long nextLookupAfterSuccessMillis(long ttlSeconds) {
      return respectTtl && ttlSeconds > 0 ? ttlSeconds * 1000 : refresh.toMillis();
    }

    /**
     * Milliseconds to the next lookup after {@code failures} failed ones in a row (0: after a
     * success), {@code jitter} in [0, 1): Envoy's jittered exponential backoff when {@code
     * dns_failure_refresh_rate} is set, else the refresh rate.
     */
    public long nextLookupMillis(int failures, double jitter) {
      if (failures == 0 || failureBase.isZero()) {
        return refresh.toMillis();
      }
      long base = failureBase.toMillis();
      long ceiling =
          failures > 30
              ? failureMax.toMillis()
              : Math.min(base << (failures - 1), failureMax.toMillis());
      return Math.max(1, (long) (jitter * ceiling));
    }
  }

  /**
   * A DNS resolver as Envoy's c-ares one ({@code envoy.network.dns_resolver.cares}): {@code
   * /etc/hosts} first, then the name servers, search domains and {@code ndots} of {@code
   * /etc/resolv.conf}, or {@code servers} when set.
   *
   * @param servers {@code resolvers}: the name servers asked instead of resolv.conf's; empty: the
   *     system's
   * @param serversAsFallback {@code use_resolvers_as_fallback}: {@code servers} only when
   *     resolv.conf names no name server
   * @param tcp {@code dns_resolver_options.use_tcp_for_dns_lookups}
   * @param noSearch {@code dns_resolver_options.no_default_search_domain}: resolv.conf's search
   *     domains are not appended
   */
  public record DnsResolver(
      java.util.List<java.net.InetSocketAddress> servers,
      boolean serversAsFallback,
      boolean tcp,
      boolean noSearch) {
    /** The system's resolver: Envoy's default c-ares config. */
    public static final DnsResolver SYSTEM =
        new DnsResolver(java.util.List.of(), false, false, false);

    public DnsResolver {
      servers = java.util.List.copyOf(servers);
    }
  }

  /**
   * {@code dns_lookup_family}: which addresses of a name a DNS cluster takes (Envoy's resolver asks
   * for one family, then maybe the other; here the resolver's answer for both is filtered alike).
   */
  public enum LookupFamily {
    /** IPv6 if the name has any, else IPv4 (Envoy's default). */
    AUTO,
    V4_ONLY,
    V6_ONLY,
    /** IPv4 if the name has any, else IPv6. */
    V4_PREFERRED,
    /** Every address, in the resolver's order. */
    ALL;

    /** The addresses of {@code all} this family takes, in order; empty when none. */
    public java.util.List<java.net.InetAddress> pick(java.net.InetAddress[] all) {
      java.util.List<java.net.InetAddress> v4 = new java.util.ArrayList<>();
      java.util.List<java.net.InetAddress> v6 = new java.util.ArrayList<>();
      for (java.net.InetAddress a : all) {
        (a instanceof java.net.Inet6Address ? v6 : v4).add(a);
      }
      return switch (this) {
        case AUTO -> v6.isEmpty() ? v4 : v6;
        case V4_ONLY -> v4;
        case V6_ONLY -> v6;
        case V4_PREFERRED -> v4.isEmpty() ? v6 : v4;
        case ALL -> java.util.List.of(all);
      };
    }
  }

  /**
   * {@code ORIGINAL_DST} with {@code lb_policy: CLUSTER_PROVIDED}: the upstream is the address the
   * downstream connection was originally sent to: HTTP's {@code x-envoy-original-dst-host: ip:port}
   * (with {@code use_http_header}), else the connection's local address as the {@code original_dst}
   * listener filter restored it (iptables capture); with neither it answers as Envoy does: HTTP 503
   * "no healthy upstream", a TCP connection closed. Destinations are kept per event loop as hosts
   * until a sweep every {@code cleanupInterval} finds one unused since the last sweep (Envoy's
   * {@code used} flag).
   *
   * @param useHttpHeader {@code original_dst_lb_config.use_http_header}
   * @param cleanupInterval {@code cleanup_interval} (Envoy's default 5 s)
   */
  public record OriginalDst(boolean useHttpHeader, Duration cleanupInterval) implements Discovery {
    /** Envoy's default {@code cleanup_interval}. */
    public static final Duration DEFAULT_CLEANUP = Duration.ofSeconds(5);

    /** With the default {@code cleanup_interval}. */
    public OriginalDst(boolean useHttpHeader) {
      this(useHttpHeader, DEFAULT_CLEANUP);
    }
  }

  /**
   * {@code upstream_http_protocol_options} of TLS upstreams (Istio's TLS origination): the SNI of
   * each connection is the request's host ({@code auto_sni}), its certificate must name that host
   * ({@code auto_san_validation}), the host read from {@code overrideHeader} instead of {@code
   * :authority} when set ({@code override_auto_sni_header}). Connections are pooled per name.
   */
  public record AutoSni(
      boolean sni, boolean sanValidation, io.netty.util.@Nullable AsciiString overrideHeader) {
    /** Neither set. */
    public static final AutoSni NONE = new AutoSni(false, false, null);

    /** Whether connections depend on the request's host. */
    public boolean enabled() {
      return sni || sanValidation;
    }

    /**
     * The host of an authority ({@code host}, {@code host:port}, {@code [v6]:port}), lower case;
     * null when {@code authority} is null or empty or names an IP address.
     */
    public static @Nullable String serverName(@Nullable String authority) {
      if (authority == null || authority.isEmpty() || authority.charAt(0) == '[') {
        return null; // IPv6 literal
      }
      int colon = authority.lastIndexOf(':');
      String host = colon >= 0 ? authority.substring(0, colon) : authority;
      if (host.isEmpty() || isIpv4(host)) {
        return null;
      }
      return host.toLowerCase(java.util.Locale.ROOT);
    }

    /** Digits and dots only: an IPv4 literal (no DNS name is all numeric). */
    private static boolean isIpv4(String host) {
      for (int i = 0; i < host.length(); i++) {
        char c = host.charAt(i);
        if (c != '.' && (c < '0' || c > '9')) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * A DNS name and port with a load-balancing weight.
   *
   * @param hostname the hostname of the hosts it resolves to: the endpoint's {@code hostname}, else
   *     the name itself (Envoy's DNS clusters)
   */
  public record HostPort(String host, int port, int weight, String hostname) {
    /** A name that is its hosts' hostname. */
    public HostPort(String host, int port, int weight) {
      this(host, port, weight, host);
    }
  }

  /** Load-balancing policies. */
  public enum LbPolicy {
    ROUND_ROBIN,
    LEAST_REQUEST,
    RANDOM,
    RING_HASH,
    MAGLEV;

    /** Whether the policy picks hosts by the request's hash. */
    public boolean hashed() {
      return this == RING_HASH || this == MAGLEV;
    }
  }

  /** The EDS service name, when the cluster takes endpoints from EDS. */
  public Optional<String> edsName() {
    return discovery instanceof Eds e ? Optional.of(e.serviceName()) : Optional.empty();
  }

  /**
   * The EDS service name, or null when the cluster does not take endpoints from EDS: {@link
   * #edsName} without an {@code Optional}, for the loops over every cluster of a push.
   */
  public @Nullable String edsServiceName() {
    return discovery instanceof Eds e ? e.serviceName() : null;
  }
}
