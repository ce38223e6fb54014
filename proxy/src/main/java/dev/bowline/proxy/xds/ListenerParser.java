package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.accesslog.AccessLogWriter;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.CidrRange;
import dev.bowline.proxy.config.ClusterChoice;
import dev.bowline.proxy.config.FilterChain;
import dev.bowline.proxy.config.FilterChainMatch;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.HttpFilterConfig;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.NetworkFilter;
import dev.bowline.proxy.config.TcpProxyConfig;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** {@code Listener} → {@link ListenerConfig}, with its network and HTTP filters. */
public final class ListenerParser extends ResourceParser<Listener, ListenerConfig> {
  public static final String TYPE_URL = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String HCM_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  static final String TCP_PROXY_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  private final FilterRegistry filters;
  private final RouteConfigParser routes;
  private final AccessLogWriter accessLogWriter;

  /** The filters this parser knows (RDS and CDS parse with the same). */
  FilterRegistry filters() {
    return filters;
  }

  public ListenerParser(FilterRegistry filters) {
    this(filters, new AccessLogWriter(1000, 100_000));
  }

  /** A parser whose access loggers write through {@code accessLogWriter}. */
  public ListenerParser(FilterRegistry filters, AccessLogWriter accessLogWriter) {
    this(
        filters,
        accessLogWriter,
        (TracingParser.Context) null,
        new dev.bowline.proxy.tracing.TracingConfig.LocalNode("", "", ""));
  }

  /**
   * A parser whose access loggers write through {@code accessLogWriter} and whose connection
   * managers' spans go to {@code reporter}, describing {@code node}; without a reporter, {@code
   * tracing} is validated but traces nothing.
   */
  public ListenerParser(
      FilterRegistry filters,
      AccessLogWriter accessLogWriter,
      dev.bowline.proxy.tracing.@org.jspecify.annotations.Nullable SpanReporter reporter,
      dev.bowline.proxy.tracing.TracingConfig.LocalNode node) {
    this(
        filters,
        accessLogWriter,
        reporter == null ? null : new TracingParser.Context(node, reporter, System::getenv),
        node);
  }

  private ListenerParser(
      FilterRegistry filters,
      AccessLogWriter accessLogWriter,
      TracingParser.@org.jspecify.annotations.Nullable Context tracing,
      dev.bowline.proxy.tracing.TracingConfig.LocalNode node) {
    super(TYPE_URL, Listener.getDescriptor(), Listener.parser());
    this.filters = filters;
    this.routes = new RouteConfigParser(filters);
    this.accessLogWriter = accessLogWriter;
    this.tracing = tracing;
    this.node = node;
  }

  private final TracingParser.@org.jspecify.annotations.Nullable Context tracing;

  // the bootstrap's node: its cluster and id are add_user_agent's headers
  private final dev.bowline.proxy.tracing.TracingConfig.LocalNode node;

  @Override
  public String name(Listener proto) {
    return proto.getName();
  }

  @Override
  public ListenerConfig parse(Listener l) throws InvalidResourceException {
    if (l.getName().isEmpty()) {
      throw new InvalidResourceException("name", "must not be empty");
    }
    if (l.hasApiListener()) {
      throw new InvalidResourceException(
          "api_listener", "API listeners are for proxyless clients, not this proxy");
    }
    boolean tlsInspector = false;
    boolean httpInspector = false;
    boolean originalDst = false;
    for (int i = 0; i < l.getListenerFiltersCount(); i++) {
      var lf = l.getListenerFilters(i);
      String type = lf.hasTypedConfig() ? lf.getTypedConfig().getTypeUrl() : "";
      if (lf.getName().equals("envoy.filters.listener.tls_inspector")
          || type.endsWith("/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")) {
        tlsInspector = true;
      } else if (lf.getName().equals("envoy.filters.listener.http_inspector")
          || type.endsWith("/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector")) {
        httpInspector = true;
      } else if (lf.getName().equals("envoy.filters.listener.original_dst")
          || type.endsWith("/envoy.extensions.filters.listener.original_dst.v3.OriginalDst")) {
        originalDst = true;
      } else {
        throw new InvalidResourceException(
            "listener_filters[" + i + "]",
            "listener filter '" + lf.getName() + "' is not supported");
      }
    }
    Duration inspectTimeout =
        l.hasListenerFiltersTimeout()
            ? Protos.duration(l.getListenerFiltersTimeout())
            : Duration.ofSeconds(15);
    var inspection =
        new ListenerConfig.Inspection(
            tlsInspector, httpInspector, inspectTimeout, l.getContinueOnListenerFiltersTimeout());
    var address = Protos.address(l.getAddress(), "address");
    FilterContext fc = filterContext(l);
    List<FilterChain> chains = new ArrayList<>();
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      chains.add(chain(l.getFilterChains(i), "filter_chains[" + i + "]", fc));
    }
    Optional<FilterChain> def =
        l.hasDefaultFilterChain()
            ? Optional.of(chain(l.getDefaultFilterChain(), "default_filter_chain", fc))
            : Optional.empty();
    if (chains.isEmpty() && def.isEmpty()) {
      throw new InvalidResourceException("filter_chains", "at least one filter chain is required");
    }
    boolean bind = !l.hasBindToPort() || l.getBindToPort().getValue();
    boolean useOriginalDst = l.hasUseOriginalDst() && l.getUseOriginalDst().getValue();
    // Envoy's buildOriginalDstListenerFilter: use_original_dst adds the original_dst filter itself
    originalDst |= useOriginalDst;
    return new ListenerConfig(
        l.getName(),
        address,
        chains,
        def,
        bind,
        inspection,
        bufferLimit(l),
        originalDst,
        useOriginalDst,
        l.getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND,
        l.getDrainType() == Listener.DrainType.MODIFY_ONLY,
        AccessLogParser.parse(l.getAccessLogList(), "access_log", accessLogWriter));
  }

  /** {@code per_connection_buffer_limit_bytes}: a uint32 our int-sized buffers must hold. */
  private static int bufferLimit(Listener l) throws InvalidResourceException {
    if (!l.hasPerConnectionBufferLimitBytes()) {
      return ListenerConfig.DEFAULT_BUFFER_LIMIT;
    }
    return bufferLimitValue(l.getPerConnectionBufferLimitBytes().getValue());
  }

  /** A {@code per_connection_buffer_limit_bytes} value (uint32) checked to fit an int. */
  static int bufferLimitValue(int raw) throws InvalidResourceException {
    if (raw < 0) {
      throw new InvalidResourceException(
          "per_connection_buffer_limit_bytes",
          "must be at most " + Integer.MAX_VALUE + ": " + Integer.toUnsignedString(raw));
    }
    return raw;
  }

  /** What HTTP filters may know of their listener. */
  private static FilterContext filterContext(Listener l) {
    return new FilterContext(
        switch (l.getTrafficDirection()) {
          case INBOUND -> TrafficDirection.INBOUND;
          case OUTBOUND -> TrafficDirection.OUTBOUND;
          case UNSPECIFIED, UNRECOGNIZED -> TrafficDirection.UNSPECIFIED;
        });
  }

  private FilterChain chain(
      io.envoyproxy.envoy.config.listener.v3.FilterChain c, String field, FilterContext fc)
      throws InvalidResourceException {
    var m = c.getFilterChainMatch();
    String mf = field + ".filter_chain_match";
    List<CidrRange> sources = ranges(m.getSourcePrefixRangesList(), mf + ".source_prefix_ranges");
    List<CidrRange> dests = ranges(m.getPrefixRangesList(), mf + ".prefix_ranges");
    if (m.getDirectSourcePrefixRangesCount() > 0) {
      sources = ranges(m.getDirectSourcePrefixRangesList(), mf + ".direct_source_prefix_ranges");
    }
    String transport = m.getTransportProtocol();
    if (!transport.isEmpty() && !transport.equals("raw_buffer") && !transport.equals("tls")) {
      throw new InvalidResourceException(
          mf + ".transport_protocol", "unknown transport protocol '" + transport + "'");
    }
    FilterChainMatch match =
        new FilterChainMatch(
            m.hasDestinationPort()
                ? OptionalInt.of(m.getDestinationPort().getValue())
                : OptionalInt.empty(),
            dests,
            m.getServerNamesList(),
            transport,
            m.getApplicationProtocolsList(),
            sources,
            m.getSourcePortsList());
    Optional<dev.bowline.proxy.tls.DownstreamTls> tls =
        c.hasTransportSocket()
            ? TlsParser.downstream(c.getTransportSocket(), field + ".transport_socket")
            : Optional.empty();
    if (c.getFiltersCount() == 0) {
      throw new InvalidResourceException(
          field + ".filters", "at least one network filter is required");
    }
    List<dev.bowline.proxy.network.ReadFilter> readFilters = new ArrayList<>();
    int last = c.getFiltersCount() - 1;
    for (int i = 0; i < last; i++) {
      readFilters.add(readFilter(c.getFilters(i), field + ".filters[" + i + "]", fc));
    }
    return new FilterChain(
        c.getName(),
        match,
        networkFilter(c.getFilters(last), field + ".filters[" + last + "]", fc),
        tls,
        readFilters);
  }

  /** A non-terminal network filter (RBAC): before the chain's HCM or TCP proxy. */
  private dev.bowline.proxy.network.ReadFilter readFilter(Filter f, String field, FilterContext fc)
      throws InvalidResourceException {
    if (!f.hasTypedConfig()) {
      throw new InvalidResourceException(field + ".typed_config", "is required");
    }
    Any any = f.getTypedConfig();
    var factory = filters.findNetwork(any.getTypeUrl());
    if (factory.isEmpty()) {
      throw new InvalidResourceException(
          field + ".typed_config",
          "unsupported network filter type "
              + any.getTypeUrl()
              + " (only the last filter may be terminal)");
    }
    try {
      return factory.get().parse(any, fc);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          field + ".typed_config", "cannot unpack: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(field + ".typed_config", e.getMessage());
    }
  }

  private static List<CidrRange> ranges(
      List<io.envoyproxy.envoy.config.core.v3.CidrRange> in, String field)
      throws InvalidResourceException {
    List<CidrRange> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      var r = in.get(i);
      try {
        out.add(
            CidrRange.of(r.getAddressPrefix(), r.hasPrefixLen() ? r.getPrefixLen().getValue() : 0));
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(field + "[" + i + "]", e.getMessage());
      }
    }
    return out;
  }

  private NetworkFilter networkFilter(Filter f, String field, FilterContext fc)
      throws InvalidResourceException {
    if (!f.hasTypedConfig()) {
      throw new InvalidResourceException(field + ".typed_config", "is required");
    }
    Any any = f.getTypedConfig();
    try {
      return switch (any.getTypeUrl()) {
        case HCM_TYPE ->
            hcm(
                Anys.unpack(
                    any, HttpConnectionManager.getDescriptor(), HttpConnectionManager.parser()),
                field + ".typed_config",
                fc);
        case TCP_PROXY_TYPE ->
            tcpProxy(
                Anys.unpack(any, TcpProxy.getDescriptor(), TcpProxy.parser()),
                field + ".typed_config",
                accessLogWriter);
        default ->
            throw new InvalidResourceException(
                field + ".typed_config", "unsupported network filter type " + any.getTypeUrl());
      };
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          field + ".typed_config", "cannot unpack: " + e.getMessage());
    }
  }

  private static TcpProxyConfig tcpProxy(TcpProxy t, String field, AccessLogWriter writer)
      throws InvalidResourceException {
    ClusterChoice clusters =
        switch (t.getClusterSpecifierCase()) {
          case CLUSTER -> new ClusterChoice.Single(t.getCluster());
          case WEIGHTED_CLUSTERS -> {
            List<ClusterChoice.WeightedCluster> list = new ArrayList<>();
            for (var c : t.getWeightedClusters().getClustersList()) {
              if (c.getWeight() > 0) {
                list.add(new ClusterChoice.WeightedCluster(c.getName(), c.getWeight()));
              }
            }
            if (list.isEmpty()) {
              throw new InvalidResourceException(
                  field + ".weighted_clusters", "weights must add up to more than 0");
            }
            yield new ClusterChoice.Weighted(list);
          }
          case CLUSTERSPECIFIER_NOT_SET ->
              throw new InvalidResourceException(
                  field, "one of cluster, weighted_clusters is required");
        };
    Duration idle = t.hasIdleTimeout() ? Protos.duration(t.getIdleTimeout()) : Duration.ofHours(1);
    Duration maxDuration =
        t.hasMaxDownstreamConnectionDuration()
            ? Protos.duration(t.getMaxDownstreamConnectionDuration())
            : Duration.ZERO;
    return new TcpProxyConfig(
        t.getStatPrefix(),
        clusters,
        idle,
        maxDuration,
        AccessLogParser.parse(t.getAccessLogList(), field + ".access_log", writer),
        tcpAccessLogFlush(t, field));
  }

  /** tcp_proxy's flush settings: its deprecated flag is {@code flush_access_log_on_connected}. */
  @SuppressWarnings("deprecation")
  private static dev.bowline.proxy.config.AccessLogFlush tcpAccessLogFlush(TcpProxy t, String field)
      throws InvalidResourceException {
    var o = t.getAccessLogOptions();
    return accessLogFlush(
        field,
        "flush_access_log_on_connected",
        t.hasAccessLogOptions()
            ? new FlushFields(
                o.hasAccessLogFlushInterval() ? o.getAccessLogFlushInterval() : null,
                false,
                false,
                o.getFlushAccessLogOnConnected())
            : null,
        new FlushFields(
            t.hasAccessLogFlushInterval() ? t.getAccessLogFlushInterval() : null,
            false,
            false,
            t.getFlushAccessLogOnConnected()));
  }

  /**
   * The connection manager's flush settings: its deprecated flag is {@code
   * flush_access_log_on_new_request}.
   */
  @SuppressWarnings("deprecation")
  private static dev.bowline.proxy.config.AccessLogFlush hcmAccessLogFlush(
      HttpConnectionManager h, String field) throws InvalidResourceException {
    var o = h.getAccessLogOptions();
    return accessLogFlush(
        field,
        "flush_access_log_on_new_request",
        h.hasAccessLogOptions()
            ? new FlushFields(
                o.hasAccessLogFlushInterval() ? o.getAccessLogFlushInterval() : null,
                o.getFlushAccessLogOnNewRequest(),
                o.getFlushLogOnTunnelSuccessfullyEstablished(),
                false)
            : null,
        new FlushFields(
            h.hasAccessLogFlushInterval() ? h.getAccessLogFlushInterval() : null,
            h.getFlushAccessLogOnNewRequest(),
            false,
            false));
  }

  /**
   * One kind of flush settings as the proto says them: {@code access_log_options}, or the
   * deprecated top-level {@code access_log_flush_interval} and flag.
   *
   * @param interval {@code access_log_flush_interval}; null when unset
   */
  private record FlushFields(
      com.google.protobuf.@org.jspecify.annotations.Nullable Duration interval,
      boolean onNewRequest,
      boolean onTunnelEstablished,
      boolean onConnected) {
    boolean any() {
      return interval != null || onNewRequest || onTunnelEstablished || onConnected;
    }
  }

  /**
   * {@code access_log_options}, or the deprecated {@code access_log_flush_interval} and {@code
   * legacyFlag} (tcp_proxy's and the connection manager's differ only in that flag's name and in
   * which flags their options carry); both kinds at once are refused, as Envoy's config does.
   *
   * @param options {@code access_log_options}; null when unset
   * @param legacy the deprecated top-level fields
   */
  private static dev.bowline.proxy.config.AccessLogFlush accessLogFlush(
      String field,
      String legacyFlag,
      @org.jspecify.annotations.Nullable FlushFields options,
      FlushFields legacy)
      throws InvalidResourceException {
    String intervalField = field + ".access_log_flush_interval";
    if (options != null) {
      if (legacy.onNewRequest() || legacy.onTunnelEstablished() || legacy.onConnected()) {
        throw new InvalidResourceException(
            field + "." + legacyFlag,
            "only one of " + legacyFlag + " or access_log_options can be specified");
      }
      if (legacy.interval() != null) {
        throw new InvalidResourceException(
            intervalField,
            "only one of access_log_flush_interval or access_log_options can be specified");
      }
      intervalField = field + ".access_log_options.access_log_flush_interval";
    } else if (!legacy.any()) {
      return dev.bowline.proxy.config.AccessLogFlush.NONE;
    }
    FlushFields f = options != null ? options : legacy;
    return new dev.bowline.proxy.config.AccessLogFlush(
        f.interval() != null ? flushInterval(f.interval(), intervalField) : Duration.ZERO,
        f.onNewRequest(),
        f.onTunnelEstablished(),
        f.onConnected());
  }

  /** An access-log flush interval: at least 1 ms (Envoy's validation). */
  private static Duration flushInterval(com.google.protobuf.Duration d, String field)
      throws InvalidResourceException {
    Duration out = Protos.duration(d);
    if (out.compareTo(Duration.ofMillis(1)) < 0) {
      throw new InvalidResourceException(field, "must be at least 1ms");
    }
    return out;
  }

  private HttpConnectionManagerConfig hcm(HttpConnectionManager h, String field, FilterContext fc)
      throws InvalidResourceException {
    var codec =
        switch (h.getCodecType()) {
          case AUTO -> HttpConnectionManagerConfig.Codec.AUTO;
          case HTTP1 -> HttpConnectionManagerConfig.Codec.HTTP1;
          case HTTP2 -> HttpConnectionManagerConfig.Codec.HTTP2;
          case HTTP3, UNRECOGNIZED ->
              throw new InvalidResourceException(
                  field + ".codec_type", "only AUTO, HTTP1 and HTTP2 are supported");
        };
    HttpConnectionManagerConfig.RouteSource source =
        switch (h.getRouteSpecifierCase()) {
          case RDS -> {
            String name = h.getRds().getRouteConfigName();
            if (name.isEmpty()) {
              throw new InvalidResourceException(
                  field + ".rds.route_config_name", "must not be empty");
            }
            if (!h.getRds().getConfigSource().hasAds() && h.getRds().hasConfigSource()) {
              throw new InvalidResourceException(
                  field + ".rds.config_source", "only ads is supported");
            }
            yield new HttpConnectionManagerConfig.RdsRoutes(name);
          }
          case ROUTE_CONFIG -> {
            try {
              yield new HttpConnectionManagerConfig.InlineRoutes(routes.parse(h.getRouteConfig()));
            } catch (InvalidResourceException e) {
              throw e.under(field + ".route_config");
            }
          }
          case SCOPED_ROUTES, ROUTESPECIFIER_NOT_SET ->
              throw new InvalidResourceException(field, "one of rds, route_config is required");
        };
    List<HttpFilterConfig> httpFilters = new ArrayList<>();
    for (int i = 0; i < h.getHttpFiltersCount(); i++) {
      HttpFilter f = h.getHttpFilters(i);
      String ff = field + ".http_filters[" + i + "]";
      if (f.getDisabled()) {
        continue;
      }
      if (!f.hasTypedConfig()) {
        throw new InvalidResourceException(
            ff + ".typed_config", "is required (filter " + f.getName() + ")");
      }
      com.google.protobuf.Any typed;
      try {
        typed = FilterConfigs.unwrapTypedStruct(f.getTypedConfig(), filters, ff + ".typed_config");
      } catch (InvalidResourceException e) {
        if (f.getIsOptional()) {
          continue;
        }
        throw e;
      }
      String type = typed.getTypeUrl();
      Optional<HttpFilterFactory<?>> factory = filters.find(type);
      if (factory.isEmpty()) {
        if (f.getIsOptional()) {
          continue; // Envoy: an optional filter the proxy does not know is skipped
        }
        throw new InvalidResourceException(
            ff + ".typed_config",
            "unknown HTTP filter type " + type + " (filter " + f.getName() + ")");
      }
      Object config;
      try {
        config = factory.get().parse(typed, fc.inConnectionManager(h.getStatPrefix()));
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(
            ff + ".typed_config", "cannot unpack: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(ff + ".typed_config", e.getMessage());
      }
      boolean last = i == h.getHttpFiltersCount() - 1;
      if (factory.get().terminal() != last) {
        throw new InvalidResourceException(
            ff,
            last
                ? "the last HTTP filter must be terminal (the router)"
                : "the terminal filter " + f.getName() + " must be last");
      }
      httpFilters.add(new HttpFilterConfig(f.getName(), type, config));
    }
    if (httpFilters.isEmpty()
        || !filters.find(httpFilters.getLast().typeUrl()).orElseThrow().terminal()) {
      throw new InvalidResourceException(
          field + ".http_filters", "the router must be the last HTTP filter");
    }
    boolean useRemote = h.hasUseRemoteAddress() && h.getUseRemoteAddress().getValue();
    boolean generateId = !h.hasGenerateRequestId() || h.getGenerateRequestId().getValue();
    int maxKb = h.hasMaxRequestHeadersKb() ? h.getMaxRequestHeadersKb().getValue() : 60;
    boolean websocket = false;
    boolean connect = false;
    for (int i = 0; i < h.getUpgradeConfigsCount(); i++) {
      var u = h.getUpgradeConfigs(i);
      boolean isConnect = u.getUpgradeType().equalsIgnoreCase("CONNECT");
      if (!isConnect && !u.getUpgradeType().equalsIgnoreCase("websocket")) {
        throw new InvalidResourceException(
            field + ".upgrade_configs[" + i + "].upgrade_type",
            "only websocket and CONNECT are supported, got '" + u.getUpgradeType() + "'");
      }
      if (u.getFiltersCount() > 0) {
        throw new InvalidResourceException(
            field + ".upgrade_configs[" + i + "].filters", "not supported");
      }
      boolean enabled = !u.hasEnabled() || u.getEnabled().getValue();
      if (isConnect) {
        connect = enabled;
      } else {
        websocket = enabled;
      }
    }
    if (maxKb <= 0 || maxKb > 8192) {
      throw new InvalidResourceException(field + ".max_request_headers_kb", "must be in [1, 8192]");
    }
    Duration idle =
        h.hasStreamIdleTimeout()
            ? Protos.duration(h.getStreamIdleTimeout())
            : Duration.ofMinutes(5);
    Duration request =
        h.hasRequestTimeout() ? Protos.duration(h.getRequestTimeout()) : Duration.ZERO;
    String server = h.getServerName().isEmpty() ? "envoy" : h.getServerName();
    var uuid = requestIdExtension(h, field);
    return new HttpConnectionManagerConfig(
        h.getStatPrefix(),
        codec,
        source,
        httpFilters,
        useRemote,
        h.getSkipXffAppend(),
        generateId,
        maxKb * 1024,
        idle,
        request,
        server,
        websocket,
        AccessLogParser.parse(h.getAccessLogList(), field + ".access_log", accessLogWriter),
        clientCertDetails(h, field),
        h.hasTracing()
            ? TracingParser.parse(
                h.getTracing(),
                field + ".tracing",
                fc.direction() == TrafficDirection.OUTBOUND,
                tracing)
            : null,
        pathNormalization(h, field),
        connect,
        codecOptions(h, field),
        new dev.bowline.proxy.config.ReplyOptions(
            h.hasLocalReplyConfig()
                ? LocalReplyParser.parse(h.getLocalReplyConfig(), field + ".local_reply_config")
                : null,
            h.getPreserveExternalRequestId(),
            h.getAlwaysSetRequestIdInResponse(),
            uuid == null || !uuid.hasPackTraceReason() || uuid.getPackTraceReason().getValue(),
            uuid == null
                || !uuid.hasUseRequestIdForTraceSampling()
                || uuid.getUseRequestIdForTraceSampling().getValue()),
        clientAddress(h, field),
        connectionHeaders(h, field, node),
        hcmAccessLogFlush(h, field));
  }

  /** {@code via} and {@code server_header_transformation}. */
  private static dev.bowline.proxy.config.ConnectionHeaders connectionHeaders(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field,
      dev.bowline.proxy.tracing.TracingConfig.LocalNode node)
      throws InvalidResourceException {
    if (h.getVia().isEmpty()
        && !(h.hasAddUserAgent() && h.getAddUserAgent().getValue())
        && h.getServerHeaderTransformationValue() == 0
        && !h.getStripMatchingHostPort()
        && !h.getStripAnyHostPort()
        && !h.getStripTrailingHostDot()
        && !h.getAppendXForwardedPort()
        && !h.hasSchemeHeaderTransformation()) {
      return dev.bowline.proxy.config.ConnectionHeaders.DEFAULTS;
    }
    var scheme = h.getSchemeHeaderTransformation();
    io.netty.util.AsciiString schemeToOverwrite = null;
    if (scheme.hasSchemeToOverwrite()) {
      String v = scheme.getSchemeToOverwrite();
      if (!v.equals("http") && !v.equals("https")) {
        // Envoy's proto: in [http, https]
        throw new InvalidResourceException(
            field + ".scheme_header_transformation.scheme_to_overwrite",
            "must be http or https: '" + v + "'");
      }
      schemeToOverwrite = io.netty.util.AsciiString.cached(v);
    }
    if (h.getStripMatchingHostPort() && h.getStripAnyHostPort()) {
      // Envoy's config: the two are one oneof in the proto's intent; both set is refused
      throw new InvalidResourceException(
          field + ".strip_any_host_port",
          "strip_matching_host_port and strip_any_host_port cannot both be set");
    }
    String via = h.getVia();
    if (!via.chars().allMatch(c -> c == ' ' || c == '\t' || (c > 0x20 && c < 0x7f))) {
      throw new InvalidResourceException(field + ".via", "not a header value: '" + via + "'");
    }
    var server =
        switch (h.getServerHeaderTransformation()) {
          case OVERWRITE -> dev.bowline.proxy.config.ConnectionHeaders.Server.OVERWRITE;
          case APPEND_IF_ABSENT ->
              dev.bowline.proxy.config.ConnectionHeaders.Server.APPEND_IF_ABSENT;
          case PASS_THROUGH -> dev.bowline.proxy.config.ConnectionHeaders.Server.PASS_THROUGH;
          default ->
              throw new InvalidResourceException(
                  field + ".server_header_transformation",
                  "unknown value " + h.getServerHeaderTransformationValue());
        };
    return new dev.bowline.proxy.config.ConnectionHeaders(
        via.isEmpty() ? null : new io.netty.util.AsciiString(via),
        server,
        h.getStripAnyHostPort()
            ? dev.bowline.proxy.config.ConnectionHeaders.StripPort.ANY
            : h.getStripMatchingHostPort()
                ? dev.bowline.proxy.config.ConnectionHeaders.StripPort.MATCHING
                : dev.bowline.proxy.config.ConnectionHeaders.StripPort.NONE,
        h.getStripTrailingHostDot(),
        h.getAppendXForwardedPort(),
        schemeToOverwrite,
        scheme.getMatchUpstream(),
        // Envoy's config.cc: the local cluster name; its mutateRequestHeaders: the node's id
        h.hasAddUserAgent() && h.getAddUserAgent().getValue()
            ? io.netty.util.AsciiString.cached(node.cluster())
            : null,
        h.hasAddUserAgent() && h.getAddUserAgent().getValue() && !node.id().isEmpty()
            ? io.netty.util.AsciiString.cached(node.id())
            : null);
  }

  /** {@code xff_num_trusted_hops} and {@code internal_address_config}. */
  private static dev.bowline.proxy.config.ClientAddressConfig clientAddress(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    if (h.getXffNumTrustedHops() == 0
        && !h.hasInternalAddressConfig()
        && h.getOriginalIpDetectionExtensionsCount() == 0) {
      return dev.bowline.proxy.config.ClientAddressConfig.DEFAULTS;
    }
    if (h.getXffNumTrustedHops() < 0) { // uint32 above 2^31: more hops than any header holds
      throw new InvalidResourceException(field + ".xff_num_trusted_hops", "too large");
    }
    var iac = h.getInternalAddressConfig();
    return new dev.bowline.proxy.config.ClientAddressConfig(
        h.getXffNumTrustedHops(),
        ranges(iac.getCidrRangesList(), field + ".internal_address_config.cidr_ranges"),
        iac.getUnixSockets(),
        originalIpDetections(h, field));
  }

  private static final String UUID_REQUEST_ID_TYPE =
      "type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig";

  /**
   * {@code request_id_extension}: Envoy's UUID extension, the only one it has; null when unset (its
   * defaults). Any other type, or none, is refused as Envoy's factory lookup refuses it.
   */
  private static io.envoyproxy.envoy.extensions.request_id.uuid.v3.@org.jspecify.annotations
          .Nullable
      UuidRequestIdConfig
      requestIdExtension(
          io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                  .HttpConnectionManager
              h,
          String field)
          throws InvalidResourceException {
    if (!h.hasRequestIdExtension()) {
      return null;
    }
    String ef = field + ".request_id_extension.typed_config";
    Any any = h.getRequestIdExtension().getTypedConfig();
    if (!any.getTypeUrl().equals(UUID_REQUEST_ID_TYPE)) {
      throw new InvalidResourceException(
          ef, "unknown request ID extension type '" + any.getTypeUrl() + "'");
    }
    try {
      return Anys.unpack(
          any,
          io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.getDescriptor(),
          io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.parser());
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(ef, "cannot unpack: " + e.getMessage());
    }
  }

  private static final String CUSTOM_HEADER_DETECTION_TYPE =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig";
  private static final String XFF_DETECTION_TYPE =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig";

  /**
   * {@code original_ip_detection_extensions}: Envoy's custom header and x-forwarded-for extensions;
   * as Envoy's config, none with {@code use_remote_address} or {@code xff_num_trusted_hops}.
   */
  private static List<dev.bowline.proxy.config.OriginalIpDetection> originalIpDetections(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    if (h.getOriginalIpDetectionExtensionsCount() == 0) {
      return List.of();
    }
    String f = field + ".original_ip_detection_extensions";
    if (h.hasUseRemoteAddress() && h.getUseRemoteAddress().getValue()) {
      throw new InvalidResourceException(
          f, "original IP detection extensions and use_remote_address may not be mixed");
    }
    if (h.getXffNumTrustedHops() != 0) {
      throw new InvalidResourceException(
          f, "original IP detection extensions and xff_num_trusted_hops may not be mixed");
    }
    List<dev.bowline.proxy.config.OriginalIpDetection> out = new ArrayList<>();
    for (int i = 0; i < h.getOriginalIpDetectionExtensionsCount(); i++) {
      var ext = h.getOriginalIpDetectionExtensions(i);
      String ef = f + "[" + i + "].typed_config";
      Any any = ext.getTypedConfig();
      try {
        switch (any.getTypeUrl()) {
          case CUSTOM_HEADER_DETECTION_TYPE -> {
            var c =
                Anys.unpack(
                    any,
                    io.envoyproxy.envoy.extensions.http.original_ip_detection.custom_header.v3
                        .CustomHeaderConfig.getDescriptor(),
                    io.envoyproxy.envoy.extensions.http.original_ip_detection.custom_header.v3
                        .CustomHeaderConfig.parser());
            String name = c.getHeaderName();
            if (name.isEmpty() || !name.chars().allMatch(ListenerParser::tchar)) {
              throw new InvalidResourceException(
                  ef + ".header_name", "not a header name: '" + name + "'");
            }
            int status = 0;
            if (c.hasRejectWithStatus()) {
              status = c.getRejectWithStatus().getCodeValue();
              if (status == 0 || io.envoyproxy.envoy.type.v3.StatusCode.forNumber(status) == null) {
                throw new InvalidResourceException(
                    ef + ".reject_with_status.code", "not an HTTP status: " + status);
              }
            }
            out.add(
                new dev.bowline.proxy.config.OriginalIpDetection.CustomHeader(
                    new io.netty.util.AsciiString(name.toLowerCase(java.util.Locale.ROOT)),
                    c.getAllowExtensionToSetAddressAsTrusted(),
                    status));
          }
          case XFF_DETECTION_TYPE -> {
            var c =
                Anys.unpack(
                    any,
                    io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
                        .getDescriptor(),
                    io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
                        .parser());
            if (c.hasXffTrustedCidrs() && c.getXffNumTrustedHops() != 0) {
              throw new InvalidResourceException(
                  ef + ".xff_trusted_cidrs",
                  "cannot set both xff_num_trusted_hops and xff_trusted_cidrs");
            }
            if (c.getXffNumTrustedHops() < 0) {
              throw new InvalidResourceException(ef + ".xff_num_trusted_hops", "too large");
            }
            out.add(
                new dev.bowline.proxy.config.OriginalIpDetection.Xff(
                    c.getXffNumTrustedHops(),
                    ranges(c.getXffTrustedCidrs().getCidrsList(), ef + ".xff_trusted_cidrs.cidrs"),
                    !c.hasSkipXffAppend() || c.getSkipXffAppend().getValue()));
          }
          default ->
              throw new InvalidResourceException(
                  ef, "unknown original IP detection extension type '" + any.getTypeUrl() + "'");
        }
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(ef, "cannot unpack: " + e.getMessage());
      }
    }
    return out;
  }

  /** RFC 9110's token character. */
  private static boolean tchar(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /**
   * The codec options, with Envoy's precedence for invalid messaging: a protocol's {@code
   * override_stream_error_on_invalid_http_message} wins, else the connection manager's {@code
   * stream_error_on_invalid_http_message}, else (HTTP/2 only) the deprecated {@code
   * stream_error_on_invalid_http_messaging}; unset everywhere is false.
   */
  private static dev.bowline.proxy.config.CodecOptions codecOptions(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    var h1 = h.getHttpProtocolOptions();
    var h2 = h.getHttp2ProtocolOptions();
    boolean hcmSet = h.hasStreamErrorOnInvalidHttpMessage();
    boolean hcm = hcmSet && h.getStreamErrorOnInvalidHttpMessage().getValue();
    boolean http1 =
        h1.hasOverrideStreamErrorOnInvalidHttpMessage()
            ? h1.getOverrideStreamErrorOnInvalidHttpMessage().getValue()
            : hcm;
    boolean http2 =
        h2.hasOverrideStreamErrorOnInvalidHttpMessage()
            ? h2.getOverrideStreamErrorOnInvalidHttpMessage().getValue()
            : hcmSet ? hcm : h2.getStreamErrorOnInvalidHttpMessaging();
    return new dev.bowline.proxy.config.CodecOptions(
        maxConcurrentStreams(h, field),
        http1,
        http2,
        h1.getAcceptHttp10(),
        h1.getDefaultHostForHttp10(),
        h.hasDelayedCloseTimeout()
            ? Protos.duration(h.getDelayedCloseTimeout())
            : dev.bowline.proxy.config.CodecOptions.DEFAULT_DELAYED_CLOSE_TIMEOUT,
        window(
            h2.hasInitialStreamWindowSize(),
            h2.getInitialStreamWindowSize().getValue(),
            field + ".http2_protocol_options.initial_stream_window_size"),
        window(
            h2.hasInitialConnectionWindowSize(),
            h2.getInitialConnectionWindowSize().getValue(),
            field + ".http2_protocol_options.initial_connection_window_size"),
        maxHeadersCount(h, field),
        h1.getEnableTrailers(),
        h.getCommonHttpProtocolOptions().hasMaxConnectionDuration()
            ? Protos.duration(h.getCommonHttpProtocolOptions().getMaxConnectionDuration())
            : Duration.ZERO,
        h.hasDrainTimeout()
            ? Protos.duration(h.getDrainTimeout())
            : dev.bowline.proxy.config.CodecOptions.DEFAULT_DRAIN_TIMEOUT,
        h.getCommonHttpProtocolOptions().hasMaxStreamDuration()
            ? Protos.duration(h.getCommonHttpProtocolOptions().getMaxStreamDuration())
            : Duration.ZERO,
        h.getProxy100Continue(),
        h.getCommonHttpProtocolOptions().hasIdleTimeout()
            ? Protos.duration(h.getCommonHttpProtocolOptions().getIdleTimeout())
            : dev.bowline.proxy.config.CodecOptions.DEFAULT_IDLE_TIMEOUT,
        h.hasRequestHeadersTimeout()
            ? Protos.duration(h.getRequestHeadersTimeout())
            : Duration.ZERO,
        maxRequestsPerConnection(h, field),
        underscores(h, field),
        h2.hasConnectionKeepalive()
            ? keepalive(
                h2.getConnectionKeepalive(), field + ".http2_protocol_options.connection_keepalive")
            : null);
  }

  /**
   * {@code connection_keepalive} (downstream and upstream HTTP/2 options), checked as Envoy's proto
   * validation checks it: {@code timeout} required, durations at least 1 ms, {@code
   * interval_jitter} a percentage.
   */
  static dev.bowline.proxy.config.KeepaliveSettings keepalive(
      io.envoyproxy.envoy.config.core.v3.KeepaliveSettings k, String field)
      throws InvalidResourceException {
    if (!k.hasTimeout()) {
      throw new InvalidResourceException(field + ".timeout", "required");
    }
    Duration interval = Duration.ZERO;
    if (k.hasInterval()) {
      interval = atLeastOneMilli(Protos.duration(k.getInterval()), field + ".interval");
    }
    Duration timeout = atLeastOneMilli(Protos.duration(k.getTimeout()), field + ".timeout");
    Duration idle = Duration.ZERO;
    if (k.hasConnectionIdleInterval()) {
      idle =
          atLeastOneMilli(
              Protos.duration(k.getConnectionIdleInterval()), field + ".connection_idle_interval");
    }
    double jitter =
        k.hasIntervalJitter()
            ? k.getIntervalJitter().getValue()
            : dev.bowline.proxy.config.KeepaliveSettings.DEFAULT_JITTER_PERCENT;
    if (!(jitter >= 0 && jitter <= 100)) {
      throw new InvalidResourceException(field + ".interval_jitter", "must be in [0, 100]");
    }
    return new dev.bowline.proxy.config.KeepaliveSettings(interval, timeout, jitter, idle);
  }

  private static Duration atLeastOneMilli(Duration d, String field)
      throws InvalidResourceException {
    if (d.compareTo(Duration.ofMillis(1)) < 0) {
      throw new InvalidResourceException(field, "must be at least 1ms");
    }
    return d;
  }

  /**
   * {@code common_http_protocol_options.max_requests_per_connection}: unset or 0, no limit (Envoy's
   * default); a {@code UInt32Value}, so past 2^31-1 it is as good as none.
   */
  private static int maxRequestsPerConnection(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field) {
    var common = h.getCommonHttpProtocolOptions();
    if (!common.hasMaxRequestsPerConnection()) {
      return 0;
    }
    long n = Integer.toUnsignedLong(common.getMaxRequestsPerConnection().getValue());
    return (int) Math.min(n, Integer.MAX_VALUE);
  }

  /**
   * {@code common_http_protocol_options.headers_with_underscores_action}; an unknown value NACKed.
   */
  private static int underscores(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    int n = h.getCommonHttpProtocolOptions().getHeadersWithUnderscoresActionValue();
    if (n < dev.bowline.proxy.config.CodecOptions.UNDERSCORES_ALLOW
        || n > dev.bowline.proxy.config.CodecOptions.UNDERSCORES_DROP) {
      throw new InvalidResourceException(
          field + ".common_http_protocol_options.headers_with_underscores_action",
          "unknown value " + n);
    }
    return n;
  }

  /** {@code common_http_protocol_options.max_headers_count}: Envoy's default 100, at least 1. */
  private static int maxHeadersCount(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    var common = h.getCommonHttpProtocolOptions();
    if (!common.hasMaxHeadersCount()) {
      return dev.bowline.proxy.config.CodecOptions.DEFAULT_MAX_HEADERS_COUNT;
    }
    int n = common.getMaxHeadersCount().getValue();
    if (n < 1) {
      throw new InvalidResourceException(
          field + ".common_http_protocol_options.max_headers_count",
          "must be at least 1, got " + Integer.toUnsignedString(n));
    }
    return n;
  }

  /** An HTTP/2 window size: Envoy's range [65535, 2^31-1] and default (256 MiB). */
  static int window(boolean set, int value, String field) throws InvalidResourceException {
    if (!set) {
      return dev.bowline.proxy.config.CodecOptions.DEFAULT_WINDOW_SIZE;
    }
    if (value < dev.bowline.proxy.config.CodecOptions.MIN_WINDOW_SIZE) {
      throw new InvalidResourceException(
          field, "must be in [65535, 2147483647], got " + Integer.toUnsignedString(value));
    }
    return value;
  }

  /** {@code http2_protocol_options.max_concurrent_streams}, Envoy's range and default. */
  private static int maxConcurrentStreams(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    if (!h.getHttp2ProtocolOptions().hasMaxConcurrentStreams()) {
      return dev.bowline.proxy.config.CodecOptions.DEFAULT_MAX_CONCURRENT_STREAMS;
    }
    int n = h.getHttp2ProtocolOptions().getMaxConcurrentStreams().getValue();
    if (n < 1) {
      throw new InvalidResourceException(
          field + ".http2_protocol_options.max_concurrent_streams",
          "must be in [1, 2147483647], got " + Integer.toUnsignedString(n));
    }
    return n;
  }

  /** {@code normalize_path}, {@code merge_slashes}, {@code path_with_escaped_slashes_action}. */
  private static dev.bowline.proxy.config.PathNormalization pathNormalization(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    var action =
        switch (h.getPathWithEscapedSlashesAction()) {
          case IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED ->
              dev.bowline.proxy.config.PathNormalization.EscapedSlashes.KEEP_UNCHANGED;
          case REJECT_REQUEST ->
              dev.bowline.proxy.config.PathNormalization.EscapedSlashes.REJECT_REQUEST;
          case UNESCAPE_AND_REDIRECT ->
              dev.bowline.proxy.config.PathNormalization.EscapedSlashes.UNESCAPE_AND_REDIRECT;
          case UNESCAPE_AND_FORWARD ->
              dev.bowline.proxy.config.PathNormalization.EscapedSlashes.UNESCAPE_AND_FORWARD;
          case UNRECOGNIZED ->
              throw new InvalidResourceException(
                  field + ".path_with_escaped_slashes_action", "unknown action");
        };
    if (h.hasPathNormalizationOptions()) {
      throw new InvalidResourceException(
          field + ".path_normalization_options", "not supported (use normalize_path)");
    }
    var p =
        new dev.bowline.proxy.config.PathNormalization(
            h.hasNormalizePath() && h.getNormalizePath().getValue(), h.getMergeSlashes(), action);
    return p.active() ? p : dev.bowline.proxy.config.PathNormalization.NONE;
  }

  /** {@code forward_client_cert_details} and {@code set_current_client_cert_details}. */
  private static dev.bowline.proxy.config.ClientCertDetails clientCertDetails(
      io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
              .HttpConnectionManager
          h,
      String field)
      throws InvalidResourceException {
    var mode =
        switch (h.getForwardClientCertDetails()) {
          case SANITIZE -> dev.bowline.proxy.config.ClientCertDetails.Mode.SANITIZE;
          case FORWARD_ONLY -> dev.bowline.proxy.config.ClientCertDetails.Mode.FORWARD_ONLY;
          case APPEND_FORWARD -> dev.bowline.proxy.config.ClientCertDetails.Mode.APPEND_FORWARD;
          case SANITIZE_SET -> dev.bowline.proxy.config.ClientCertDetails.Mode.SANITIZE_SET;
          case ALWAYS_FORWARD_ONLY ->
              dev.bowline.proxy.config.ClientCertDetails.Mode.ALWAYS_FORWARD_ONLY;
          case UNRECOGNIZED ->
              throw new InvalidResourceException(
                  field + ".forward_client_cert_details", "unknown value");
        };
    var set = h.getSetCurrentClientCertDetails();
    return new dev.bowline.proxy.config.ClientCertDetails(
        mode,
        set.hasSubject() && set.getSubject().getValue(),
        set.getCert(),
        set.getChain(),
        set.getDns(),
        set.getUri());
  }

  private static final java.util.Set<String> HONOURED =
      java.util.Set.of(
          "name",
          "address",
          "bind_to_port",
          "use_original_dst",
          "per_connection_buffer_limit_bytes",
          "traffic_direction",
          "drain_type",
          "access_log",
          "listener_filters.name",
          "listener_filters.typed_config",
          "listener_filters_timeout",
          "continue_on_listener_filters_timeout",
          "default_filter_chain.transport_socket",
          "filter_chains.name",
          "filter_chains.filter_chain_match",
          "filter_chains.transport_socket",
          "filter_chains.filters.name",
          "filter_chains.filters.typed_config",
          "default_filter_chain.name",
          "default_filter_chain.filter_chain_match",
          "default_filter_chain.filters.name",
          "default_filter_chain.filters.typed_config");

  private static final java.util.Set<String> HCM_HONOURED =
      java.util.Set.of(
          "stat_prefix",
          "codec_type",
          "rds",
          "route_config",
          "http_filters",
          "use_remote_address",
          "xff_num_trusted_hops",
          "internal_address_config",
          "original_ip_detection_extensions",
          "via",
          "server_header_transformation",
          "strip_matching_host_port",
          "strip_any_host_port",
          "strip_trailing_host_dot",
          "append_x_forwarded_port",
          "scheme_header_transformation",
          "request_id_extension",
          "add_user_agent",
          "skip_xff_append",
          "forward_client_cert_details",
          "set_current_client_cert_details",
          "generate_request_id",
          "preserve_external_request_id",
          "always_set_request_id_in_response",
          "local_reply_config",
          "max_request_headers_kb",
          "stream_idle_timeout",
          "request_timeout",
          "request_headers_timeout",
          "server_name",
          "upgrade_configs",
          "normalize_path",
          "merge_slashes",
          "path_with_escaped_slashes_action",
          "access_log",
          "access_log_flush_interval",
          "flush_access_log_on_new_request",
          "access_log_options",
          "tracing",
          "stream_error_on_invalid_http_message",
          "http_protocol_options.override_stream_error_on_invalid_http_message",
          "http_protocol_options.accept_http_10",
          "http_protocol_options.default_host_for_http_10",
          "http_protocol_options.enable_trailers",
          "delayed_close_timeout",
          "common_http_protocol_options.max_headers_count",
          "common_http_protocol_options.max_connection_duration",
          "common_http_protocol_options.max_stream_duration",
          "common_http_protocol_options.idle_timeout",
          "common_http_protocol_options.max_requests_per_connection",
          "common_http_protocol_options.headers_with_underscores_action",
          "drain_timeout",
          "proxy_100_continue",
          "http2_protocol_options.max_concurrent_streams",
          "http2_protocol_options.initial_stream_window_size",
          "http2_protocol_options.initial_connection_window_size",
          "http2_protocol_options.connection_keepalive",
          "http2_protocol_options.override_stream_error_on_invalid_http_message",
          "http2_protocol_options.stream_error_on_invalid_http_messaging");

  private static final java.util.Set<String> TCP_HONOURED =
      java.util.Set.of(
          "stat_prefix",
          "cluster",
          "weighted_clusters",
          "idle_timeout",
          "max_downstream_connection_duration",
          "access_log",
          "access_log_flush_interval",
          "flush_access_log_on_connected",
          "access_log_options");

  @Override
  java.util.Set<String> honouredFields() {
    return HONOURED;
  }

  @Override
  java.util.Set<String> nestedIgnored(Listener l) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    java.util.List<io.envoyproxy.envoy.config.listener.v3.FilterChain> chains =
        new ArrayList<>(l.getFilterChainsList());
    if (l.hasDefaultFilterChain()) {
      chains.add(l.getDefaultFilterChain());
    }
    for (var c : chains) {
      for (Filter f : c.getFiltersList()) {
        Any any = f.getTypedConfig();
        try {
          if (any.getTypeUrl().equals(HCM_TYPE)) {
            HttpConnectionManager h =
                Anys.unpack(
                    any, HttpConnectionManager.getDescriptor(), HttpConnectionManager.parser());
            for (String x :
                FieldAudit.ignored(h, HttpConnectionManager.getDescriptor(), HCM_HONOURED)) {
              out.add("http_connection_manager." + x);
            }
            if (h.hasRouteConfig()) {
              for (String x :
                  FieldAudit.ignored(
                      h.getRouteConfig(),
                      io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor(),
                      RouteConfigParser.HONOURED)) {
                out.add("http_connection_manager.route_config." + x);
              }
            }
          } else if (any.getTypeUrl().equals(TCP_PROXY_TYPE)) {
            for (String x :
                FieldAudit.ignored(
                    Anys.unpack(any, TcpProxy.getDescriptor(), TcpProxy.parser()),
                    TcpProxy.getDescriptor(),
                    TCP_HONOURED)) {
              out.add("tcp_proxy." + x);
            }
          }
        } catch (InvalidProtocolBufferException e) {
          // already rejected by parse()
        }
      }
    }
    return out;
  }
}
