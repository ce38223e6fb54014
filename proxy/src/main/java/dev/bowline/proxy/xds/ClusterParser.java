package dev.bowline.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.ClusterConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.time.Duration;

/** {@code Cluster} → {@link ClusterConfig}. */
public final class ClusterParser extends ResourceParser<Cluster, ClusterConfig> {
  public static final String TYPE_URL = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private final EndpointParser endpoints = new EndpointParser();
  private final dev.bowline.proxy.http.filter.FilterRegistry filters;
  private final dev.bowline.proxy.config.UpstreamBind bootstrapBind;

  /** A parser knowing the built-in upstream network filters of a proxy without a node. */
  public ClusterParser() {
    this(dev.bowline.proxy.http.filter.FilterRegistry.builtIn());
  }

  /** A parser whose {@code filters} (upstream network filters) come from {@code filters}. */
  public ClusterParser(dev.bowline.proxy.http.filter.FilterRegistry filters) {
    this(filters, dev.bowline.proxy.config.UpstreamBind.NONE);
  }

  /**
   * A parser whose clusters without an {@code upstream_bind_config} bind as {@code bootstrapBind}
   * (the bootstrap's {@code cluster_manager.upstream_bind_config}).
   */
  public ClusterParser(
      dev.bowline.proxy.http.filter.FilterRegistry filters,
      dev.bowline.proxy.config.UpstreamBind bootstrapBind) {
    super(TYPE_URL, Cluster.getDescriptor(), Cluster.parser());
    this.filters = filters;
    this.bootstrapBind = bootstrapBind;
  }

  @Override
  public String name(Cluster proto) {
    return proto.getName();
  }

  @Override
  @SuppressWarnings("deprecation") // http2_protocol_options on the cluster is still common
  public ClusterConfig parse(Cluster c) throws InvalidResourceException {
    if (c.getName().isEmpty()) {
      throw new InvalidResourceException("name", "must not be empty");
    }
    ClusterConfig.Discovery discovery =
        switch (c.getClusterDiscoveryTypeCase()) {
          case TYPE ->
              switch (c.getType()) {
                case STATIC -> {
                  try {
                    yield new ClusterConfig.Static(endpoints.parse(withName(c)));
                  } catch (InvalidResourceException e) {
                    throw e.under("load_assignment");
                  }
                }
                case EDS -> {
                  var eds = c.getEdsClusterConfig();
                  if (eds.hasEdsConfig() && !eds.getEdsConfig().hasAds()) {
                    throw new InvalidResourceException(
                        "eds_cluster_config.eds_config", "only ads is supported");
                  }
                  yield new ClusterConfig.Eds(
                      eds.getServiceName().isEmpty() ? c.getName() : eds.getServiceName());
                }
                case STRICT_DNS, LOGICAL_DNS -> dns(c);
                case ORIGINAL_DST -> {
                  if (c.getLbPolicy() != Cluster.LbPolicy.CLUSTER_PROVIDED) {
                    throw new InvalidResourceException(
                        "lb_policy", "ORIGINAL_DST needs CLUSTER_PROVIDED, not " + c.getLbPolicy());
                  }
                  Duration cleanup = ClusterConfig.OriginalDst.DEFAULT_CLEANUP;
                  if (c.hasCleanupInterval()) {
                    cleanup = Protos.duration(c.getCleanupInterval());
                    if (cleanup.toMillis() < 1) { // Envoy: gt 0; its timer counts milliseconds
                      throw new InvalidResourceException(
                          "cleanup_interval", "must be at least 1ms");
                    }
                  }
                  yield new ClusterConfig.OriginalDst(
                      c.getOriginalDstLbConfig().getUseHttpHeader(), cleanup);
                }
                case UNRECOGNIZED ->
                    throw new InvalidResourceException(
                        "type", c.getType() + " is not supported yet");
              };
          case CLUSTER_TYPE ->
              throw new InvalidResourceException(
                  "cluster_type", "custom cluster types are not supported");
          case CLUSTERDISCOVERYTYPE_NOT_SET ->
              new ClusterConfig.Static(
                  endpoints.parse(withName(c))); // Envoy's default type is STATIC
        };
    boolean clusterProvided =
        discovery instanceof ClusterConfig.OriginalDst
            && c.getLbPolicy() == Cluster.LbPolicy.CLUSTER_PROVIDED;
    ClusterConfig.LbPolicy lb =
        clusterProvided
            ? ClusterConfig.LbPolicy.ROUND_ROBIN // unused: the cluster picks its host itself
            : switch (c.getLbPolicy()) {
              case ROUND_ROBIN -> ClusterConfig.LbPolicy.ROUND_ROBIN;
              case LEAST_REQUEST -> ClusterConfig.LbPolicy.LEAST_REQUEST;
              case RANDOM -> ClusterConfig.LbPolicy.RANDOM;
              case RING_HASH -> ClusterConfig.LbPolicy.RING_HASH;
              case MAGLEV -> ClusterConfig.LbPolicy.MAGLEV;
              default ->
                  throw new InvalidResourceException(
                      "lb_policy", c.getLbPolicy() + " is not supported");
            };
    Duration connect =
        c.hasConnectTimeout() ? Protos.duration(c.getConnectTimeout()) : Duration.ofSeconds(5);
    if (connect.isZero() || connect.isNegative()) {
      throw new InvalidResourceException("connect_timeout", "must be positive");
    }
    boolean http2 = c.hasHttp2ProtocolOptions();
    // Envoy's precedence: the common options of HttpProtocolOptions when the cluster has them,
    // else the cluster's own (deprecated) common_http_protocol_options; then the deprecated
    // top-level max_requests_per_connection
    int maxPerConn =
        c.hasMaxRequestsPerConnection() ? c.getMaxRequestsPerConnection().getValue() : 0;
    var ext = c.getTypedExtensionProtocolOptionsMap().get(HTTP_OPTIONS);
    ClusterConfig.AutoSni autoSni = ClusterConfig.AutoSni.NONE;
    if (ext == null && c.hasUpstreamHttpProtocolOptions()) {
      autoSni = autoSni(c.getUpstreamHttpProtocolOptions()); // the deprecated cluster field
    }
    if (ext == null && c.getCommonHttpProtocolOptions().hasMaxRequestsPerConnection()) {
      maxPerConn = c.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue();
    }
    if (ext != null) {
      try {
        HttpProtocolOptions o =
            Anys.unpack(ext, HttpProtocolOptions.getDescriptor(), HttpProtocolOptions.parser());
        if (o.hasExplicitHttpConfig()) {
          http2 = o.getExplicitHttpConfig().hasHttp2ProtocolOptions();
        } else if (o.hasAutoConfig()) {
          throw new InvalidResourceException(
              "typed_extension_protocol_options[" + HTTP_OPTIONS + "]",
              "only explicit_http_config and use_downstream_protocol_config are supported");
        }
        if (o.hasUpstreamHttpProtocolOptions()) {
          try {
            autoSni = autoSni(o.getUpstreamHttpProtocolOptions());
          } catch (InvalidResourceException e) {
            throw e.under("typed_extension_protocol_options[" + HTTP_OPTIONS + "]");
          }
        }
        if (o.hasCommonHttpProtocolOptions()
            && o.getCommonHttpProtocolOptions().hasMaxRequestsPerConnection()) {
          maxPerConn = o.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue();
        }
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(
            "typed_extension_protocol_options[" + HTTP_OPTIONS + "]", e.getMessage());
      }
    }
    return new ClusterConfig(
        c.getName(),
        discovery,
        lb,
        connect,
        http2,
        maxPerConn,
        ClusterPolicyParser.parse(c, lb),
        TlsParser.upstream(c),
        upstreamFilters(c),
        c.getMetadata().getFilterMetadataMap(),
        BindParser.resolve(
            c.hasUpstreamBindConfig(),
            c.getUpstreamBindConfig(),
            bootstrapBind,
            "upstream_bind_config"),
        autoSni,
        c.getAltStatName(),
        c.getCloseConnectionsOnHostHealthFailure());
  }

  private static final java.util.regex.Pattern HEADER_NAME =
      java.util.regex.Pattern.compile("^:?[0-9a-zA-Z!#$%&'*+\\-.^_|~`]+$");

  /** {@code upstream_http_protocol_options}. */
  private static ClusterConfig.AutoSni autoSni(
      io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions u)
      throws InvalidResourceException {
    String h = u.getOverrideAutoSniHeader();
    if (!h.isEmpty() && !HEADER_NAME.matcher(h).matches()) {
      throw new InvalidResourceException(
          "upstream_http_protocol_options.override_auto_sni_header",
          "'" + h + "' is not a valid header name");
    }
    return new ClusterConfig.AutoSni(
        u.getAutoSni(),
        u.getAutoSanValidation(),
        h.isEmpty()
            ? null
            : io.netty.util.AsciiString.cached(h.toLowerCase(java.util.Locale.ROOT)));
  }

  /** {@code filters}: upstream network filters by type URL; an unknown one is an error. */
  private java.util.List<dev.bowline.proxy.network.UpstreamFilter> upstreamFilters(Cluster c)
      throws InvalidResourceException {
    java.util.List<dev.bowline.proxy.network.UpstreamFilter> out = new java.util.ArrayList<>();
    for (int i = 0; i < c.getFiltersCount(); i++) {
      var f = c.getFilters(i);
      String field = "filters[" + i + "].typed_config";
      if (!f.hasTypedConfig()) {
        throw new InvalidResourceException(field, "is required");
      }
      var factory = filters.findUpstream(f.getTypedConfig().getTypeUrl());
      if (factory.isEmpty()) {
        throw new InvalidResourceException(
            field, "unsupported upstream network filter type " + f.getTypedConfig().getTypeUrl());
      }
      try {
        out.add(factory.get().parseUpstream(f.getTypedConfig()));
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(field, "cannot unpack: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(field, e.getMessage());
      }
    }
    return out;
  }

  @SuppressWarnings("deprecation") // dns_refresh_rate: still what control planes (Istio) send
  private static ClusterConfig.Dns dns(Cluster c) throws InvalidResourceException {
    java.util.List<ClusterConfig.HostPort> hosts = new java.util.ArrayList<>();
    var la = c.getLoadAssignment();
    for (int i = 0; i < la.getEndpointsCount(); i++) {
      for (int j = 0; j < la.getEndpoints(i).getLbEndpointsCount(); j++) {
        var lbe = la.getEndpoints(i).getLbEndpoints(j);
        String field = "load_assignment.endpoints[" + i + "].lb_endpoints[" + j + "]";
        int weight = lbe.hasLoadBalancingWeight() ? lbe.getLoadBalancingWeight().getValue() : 1;
        var hp =
            Protos.hostPort(
                lbe.getEndpoint().getAddress(), Math.max(1, weight), field + ".endpoint.address");
        String name = lbe.getEndpoint().getHostname();
        hosts.add(
            name.isEmpty()
                ? hp
                : new ClusterConfig.HostPort(hp.host(), hp.port(), hp.weight(), name));
      }
    }
    boolean logical = c.getType() == Cluster.DiscoveryType.LOGICAL_DNS;
    if (hosts.isEmpty()) {
      throw new InvalidResourceException(
          "load_assignment", c.getType() + " needs at least one host");
    }
    if (logical && hosts.size() > 1) {
      throw new InvalidResourceException("load_assignment", "LOGICAL_DNS takes exactly one host");
    }
    Duration refresh =
        c.hasDnsRefreshRate() ? Protos.duration(c.getDnsRefreshRate()) : Duration.ofSeconds(5);
    if (refresh.toMillis() < 1) {
      throw new InvalidResourceException("dns_refresh_rate", "must be at least 1ms");
    }
    ClusterConfig.LookupFamily family =
        switch (c.getDnsLookupFamily()) {
          case AUTO -> ClusterConfig.LookupFamily.AUTO;
          case V4_ONLY -> ClusterConfig.LookupFamily.V4_ONLY;
          case V6_ONLY -> ClusterConfig.LookupFamily.V6_ONLY;
          case V4_PREFERRED -> ClusterConfig.LookupFamily.V4_PREFERRED;
          case ALL -> ClusterConfig.LookupFamily.ALL;
          case UNRECOGNIZED ->
              throw new InvalidResourceException("dns_lookup_family", "unknown value");
        };
    Duration failureBase = Duration.ZERO;
    Duration failureMax = Duration.ZERO;
    if (c.hasDnsFailureRefreshRate()) {
      var r = c.getDnsFailureRefreshRate();
      failureBase = r.hasBaseInterval() ? Protos.duration(r.getBaseInterval()) : Duration.ZERO;
      if (failureBase.toMillis() <= 1) {
        throw new InvalidResourceException(
            "dns_failure_refresh_rate.base_interval", "must be greater than 1ms");
      }
      failureMax =
          r.hasMaxInterval() ? Protos.duration(r.getMaxInterval()) : failureBase.multipliedBy(10);
      if (failureMax.compareTo(failureBase) < 0) {
        throw new InvalidResourceException(
            "dns_failure_refresh_rate.max_interval", "must not be less than base_interval");
      }
    }
    return new ClusterConfig.Dns(
        hosts,
        logical,
        refresh,
        family,
        failureBase,
        failureMax,
        c.getRespectDnsTtl(),
        DnsResolverParser.cluster(c));
  }

  private static io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment withName(Cluster c) {
    var la = c.getLoadAssignment();
    return la.getClusterName().isEmpty() ? la.toBuilder().setClusterName(c.getName()).build() : la;
  }

  private static final java.util.Set<String> HONOURED =
      java.util.Set.of(
          "name",
          "alt_stat_name",
          "close_connections_on_host_health_failure",
          "type",
          "lb_policy",
          "connect_timeout",
          "load_assignment.cluster_name",
          "load_assignment.endpoints.lb_endpoints.endpoint.address",
          "load_assignment.endpoints.lb_endpoints.endpoint.hostname",
          "load_assignment.endpoints.lb_endpoints.health_status",
          "load_assignment.endpoints.lb_endpoints.load_balancing_weight",
          "load_assignment.endpoints.lb_endpoints.metadata.filter_metadata",
          "eds_cluster_config",
          // its presence selects HTTP/2 upstream; of its fields the windows and the stream limit
          // are acted on, the rest get the usual warning
          "http2_protocol_options.initial_stream_window_size",
          "http2_protocol_options.initial_connection_window_size",
          "http2_protocol_options.max_concurrent_streams",
          "http2_protocol_options.connection_keepalive",
          "typed_extension_protocol_options",
          "max_requests_per_connection",
          "common_http_protocol_options.max_requests_per_connection",
          "http_protocol_options.enable_trailers",
          "upstream_http_protocol_options.auto_sni",
          "upstream_http_protocol_options.auto_san_validation",
          "upstream_http_protocol_options.override_auto_sni_header",
          "dns_refresh_rate",
          "dns_lookup_family",
          "dns_failure_refresh_rate.base_interval",
          "dns_failure_refresh_rate.max_interval",
          "respect_dns_ttl",
          // the resolver (DnsResolverParser); CaresDnsResolverConfig's own fields are audited below
          "typed_dns_resolver_config.name",
          "typed_dns_resolver_config.typed_config",
          "dns_resolvers.socket_address.address",
          "dns_resolvers.socket_address.port_value",
          "dns_resolution_config.resolvers.socket_address.address",
          "dns_resolution_config.resolvers.socket_address.port_value",
          "dns_resolution_config.dns_resolver_options.no_default_search_domain",
          "original_dst_lb_config.use_http_header",
          "cleanup_interval",
          "transport_socket",
          "transport_socket_matches",
          "filters.name",
          "filters.typed_config",
          // read by the stats filters (istio.services) and %CLUSTER_METADATA(...)% in access logs
          "metadata.filter_metadata");

  /** The fields of {@code typed_extension_protocol_options[HttpProtocolOptions]} acted on. */
  private static final java.util.Set<String> HTTP_OPTIONS_HONOURED =
      java.util.Set.of(
          "explicit_http_config.http_protocol_options",
          "explicit_http_config.http2_protocol_options.initial_stream_window_size",
          "explicit_http_config.http2_protocol_options.initial_connection_window_size",
          "explicit_http_config.http2_protocol_options.max_concurrent_streams",
          "explicit_http_config.http2_protocol_options.connection_keepalive",
          "use_downstream_protocol_config.http_protocol_options",
          "use_downstream_protocol_config.http2_protocol_options.initial_stream_window_size",
          "use_downstream_protocol_config.http2_protocol_options.initial_connection_window_size",
          "use_downstream_protocol_config.http2_protocol_options.max_concurrent_streams",
          "use_downstream_protocol_config.http2_protocol_options.connection_keepalive",
          "common_http_protocol_options.idle_timeout",
          "common_http_protocol_options.max_connection_duration",
          "common_http_protocol_options.max_requests_per_connection",
          "common_http_protocol_options.max_headers_count",
          "common_http_protocol_options.max_response_headers_kb",
          "upstream_http_protocol_options.auto_sni",
          "upstream_http_protocol_options.auto_san_validation",
          "upstream_http_protocol_options.override_auto_sni_header");

  @Override
  java.util.Set<String> nestedIgnored(Cluster c) {
    var ext = c.getTypedExtensionProtocolOptionsMap().get(HTTP_OPTIONS);
    if (ext == null) {
      return dnsResolverIgnored(c);
    }
    try {
      HttpProtocolOptions o =
          Anys.unpack(ext, HttpProtocolOptions.getDescriptor(), HttpProtocolOptions.parser());
      String prefix = "typed_extension_protocol_options[" + HTTP_OPTIONS + "].";
      java.util.Set<String> out = new java.util.TreeSet<>();
      for (String f :
          FieldAudit.ignored(o, HttpProtocolOptions.getDescriptor(), HTTP_OPTIONS_HONOURED)) {
        out.add(prefix + f);
      }
      out.addAll(dnsResolverIgnored(c));
      return out;
    } catch (InvalidProtocolBufferException e) {
      return java.util.Set.of(); // parse() already refused it
    }
  }

  /** Asked only when set: a static proxy's start does not load the DNS parser (decision 0036). */
  private static java.util.Set<String> dnsResolverIgnored(Cluster c) {
    return c.hasTypedDnsResolverConfig() ? DnsResolverParser.ignored(c) : java.util.Set.of();
  }

  private static final java.util.Set<String> ALL_HONOURED =
      java.util.stream.Stream.of(
              HONOURED.stream(),
              ClusterPolicyParser.HONOURED.stream(),
              BindParser.HONOURED.stream().map(f -> "upstream_bind_config." + f))
          .flatMap(s -> s)
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  @Override
  java.util.Set<String> honouredFields() {
    return ALL_HONOURED;
  }
}
