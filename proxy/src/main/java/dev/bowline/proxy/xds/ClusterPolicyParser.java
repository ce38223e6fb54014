package dev.bowline.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ClusterPolicy;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * The load-balancing, circuit-breaking, outlier-detection and pool fields of a {@code Cluster} →
 * {@link ClusterPolicy}, with Envoy's defaults for what is unset. Kept apart from {@link
 * ClusterParser} so cluster discovery and these policies change independently.
 */
final class ClusterPolicyParser {
  private ClusterPolicyParser() {}

  /** The field paths acted on here, for {@link FieldAudit}. */
  static final Set<String> HONOURED =
      Set.of(
          "per_connection_buffer_limit_bytes",
          "ring_hash_lb_config.minimum_ring_size",
          "ring_hash_lb_config.maximum_ring_size",
          "ring_hash_lb_config.hash_function",
          "maglev_lb_config.table_size",
          "least_request_lb_config.choice_count",
          "least_request_lb_config.active_request_bias",
          "least_request_lb_config.slow_start_config",
          "round_robin_lb_config.slow_start_config",
          "common_lb_config.healthy_panic_threshold",
          "common_lb_config.locality_weighted_lb_config",
          "circuit_breakers.thresholds.priority",
          "circuit_breakers.thresholds.max_connections",
          "circuit_breakers.thresholds.max_pending_requests",
          "circuit_breakers.thresholds.max_requests",
          "circuit_breakers.thresholds.max_retries",
          "circuit_breakers.thresholds.track_remaining",
          "outlier_detection.consecutive_5xx",
          "outlier_detection.enforcing_consecutive_5xx",
          "outlier_detection.consecutive_gateway_failure",
          "outlier_detection.enforcing_consecutive_gateway_failure",
          "outlier_detection.consecutive_local_origin_failure",
          "outlier_detection.enforcing_consecutive_local_origin_failure",
          "outlier_detection.split_external_local_origin_errors",
          "outlier_detection.interval",
          "outlier_detection.success_rate_minimum_hosts",
          "outlier_detection.success_rate_request_volume",
          "outlier_detection.success_rate_stdev_factor",
          "outlier_detection.enforcing_success_rate",
          "outlier_detection.failure_percentage_threshold",
          "outlier_detection.failure_percentage_minimum_hosts",
          "outlier_detection.failure_percentage_request_volume",
          "outlier_detection.enforcing_failure_percentage",
          "outlier_detection.base_ejection_time",
          "outlier_detection.max_ejection_time",
          "outlier_detection.max_ejection_percent",
          "upstream_connection_options.tcp_keepalive",
          "common_http_protocol_options.idle_timeout",
          "common_http_protocol_options.max_connection_duration",
          "common_http_protocol_options.max_headers_count",
          "common_http_protocol_options.max_response_headers_kb",
          "preconnect_policy.per_upstream_preconnect_ratio",
          "load_assignment.endpoints.locality",
          "load_assignment.endpoints.priority",
          "load_assignment.endpoints.load_balancing_weight",
          "load_assignment.policy.overprovisioning_factor",
          "health_checks.timeout",
          "health_checks.interval",
          "health_checks.unhealthy_threshold",
          "health_checks.healthy_threshold",
          "health_checks.http_health_check.path",
          "health_checks.http_health_check.host",
          "health_checks.http_health_check.expected_statuses",
          "health_checks.http_health_check.retriable_statuses",
          "health_checks.no_traffic_interval",
          "health_checks.no_traffic_healthy_interval",
          "health_checks.unhealthy_interval",
          "health_checks.unhealthy_edge_interval",
          "health_checks.healthy_edge_interval",
          "health_checks.initial_jitter",
          "health_checks.interval_jitter",
          "health_checks.interval_jitter_percent",
          "common_lb_config.ignore_new_hosts_until_first_hc",
          "ignore_health_on_host_removal",
          "health_checks.tcp_health_check.send",
          "health_checks.tcp_health_check.receive",
          "health_checks.http_health_check.method",
          "health_checks.http_health_check.request_headers_to_add",
          "health_checks.http_health_check.request_headers_to_remove",
          "health_checks.http_health_check.codec_client_type",
          "health_checks.http_health_check.receive",
          "health_checks.http_health_check.response_buffer_size",
          "health_checks.grpc_health_check.service_name",
          "health_checks.grpc_health_check.authority",
          "health_checks.reuse_connection",
          "health_checks.transport_socket_match_criteria",
          "health_checks.tls_options.alpn_protocols");

  @SuppressWarnings("deprecation") // common_http_protocol_options on the cluster is still sent
  static ClusterPolicy parse(Cluster c, ClusterConfig.LbPolicy lbPolicy)
      throws InvalidResourceException {
    ClusterPolicy.Lb lb =
        switch (lbPolicy) {
          case RING_HASH -> ringHash(c);
          case MAGLEV -> maglev(c);
          case LEAST_REQUEST -> leastRequest(c);
          case ROUND_ROBIN, RANDOM -> new ClusterPolicy.Plain();
        };
    Optional<ClusterPolicy.SlowStart> slowStart = Optional.empty();
    if (lbPolicy == ClusterConfig.LbPolicy.ROUND_ROBIN
        && c.getRoundRobinLbConfig().hasSlowStartConfig()) {
      slowStart =
          Optional.of(
              slowStart(
                  c.getRoundRobinLbConfig().getSlowStartConfig(),
                  "round_robin_lb_config.slow_start_config"));
    } else if (lbPolicy == ClusterConfig.LbPolicy.LEAST_REQUEST
        && c.getLeastRequestLbConfig().hasSlowStartConfig()) {
      slowStart =
          Optional.of(
              slowStart(
                  c.getLeastRequestLbConfig().getSlowStartConfig(),
                  "least_request_lb_config.slow_start_config"));
    }
    int panic = 50;
    var common = c.getCommonLbConfig();
    if (common.hasHealthyPanicThreshold()) {
      double v = common.getHealthyPanicThreshold().getValue();
      if (v < 0 || v > 100) {
        throw new InvalidResourceException(
            "common_lb_config.healthy_panic_threshold.value", "must be within [0, 100]");
      }
      panic = (int) Math.round(v);
    }
    boolean localityWeighted = common.hasLocalityWeightedLbConfig();
    Duration idle = Duration.ofHours(1);
    boolean downstreamProtocol = false;
    if (c.hasCommonHttpProtocolOptions() && c.getCommonHttpProtocolOptions().hasIdleTimeout()) {
      idle = Protos.duration(c.getCommonHttpProtocolOptions().getIdleTimeout());
    }
    @SuppressWarnings("deprecation") // the cluster's own http2_protocol_options is still sent
    var h2 = c.getHttp2ProtocolOptions();
    String h2Field = "http2_protocol_options";
    // Envoy's createOptions: HttpProtocolOptions, when the cluster has them, replace the cluster's
    // own (deprecated) protocol fields whole
    @SuppressWarnings("deprecation")
    boolean http1Trailers = c.getHttpProtocolOptions().getEnableTrailers();
    var ext = c.getTypedExtensionProtocolOptionsMap().get(ClusterParser.HTTP_OPTIONS);
    var httpCommon = c.getCommonHttpProtocolOptions();
    String commonField = "common_http_protocol_options";
    if (ext != null) {
      try {
        HttpProtocolOptions o =
            Anys.unpack(ext, HttpProtocolOptions.getDescriptor(), HttpProtocolOptions.parser());
        downstreamProtocol = o.hasUseDownstreamProtocolConfig();
        http1Trailers =
            o.hasUseDownstreamProtocolConfig()
                ? o.getUseDownstreamProtocolConfig().getHttpProtocolOptions().getEnableTrailers()
                : o.getExplicitHttpConfig().getHttpProtocolOptions().getEnableTrailers();
        if (o.getExplicitHttpConfig().hasHttp2ProtocolOptions()) {
          h2 = o.getExplicitHttpConfig().getHttp2ProtocolOptions();
          h2Field =
              "typed_extension_protocol_options["
                  + ClusterParser.HTTP_OPTIONS
                  + "].explicit_http_config.http2_protocol_options";
        } else if (o.getUseDownstreamProtocolConfig().hasHttp2ProtocolOptions()) {
          h2 = o.getUseDownstreamProtocolConfig().getHttp2ProtocolOptions();
          h2Field =
              "typed_extension_protocol_options["
                  + ClusterParser.HTTP_OPTIONS
                  + "].use_downstream_protocol_config.http2_protocol_options";
        }
        httpCommon = o.getCommonHttpProtocolOptions();
        commonField =
            "typed_extension_protocol_options["
                + ClusterParser.HTTP_OPTIONS
                + "].common_http_protocol_options";
        if (httpCommon.hasIdleTimeout()) {
          idle = Protos.duration(httpCommon.getIdleTimeout());
        }
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(
            "typed_extension_protocol_options[" + ClusterParser.HTTP_OPTIONS + "]", e.getMessage());
      }
    }
    Duration maxDuration =
        httpCommon.hasMaxConnectionDuration()
            ? Protos.duration(httpCommon.getMaxConnectionDuration())
            : Duration.ZERO;
    Optional<ClusterPolicy.TcpKeepalive> keepalive = Optional.empty();
    if (c.getUpstreamConnectionOptions().hasTcpKeepalive()) {
      var k = c.getUpstreamConnectionOptions().getTcpKeepalive();
      keepalive =
          Optional.of(
              new ClusterPolicy.TcpKeepalive(
                  k.getKeepaliveProbes().getValue(),
                  k.getKeepaliveTime().getValue(),
                  k.getKeepaliveInterval().getValue()));
    }
    return new ClusterPolicy(
        lb,
        slowStart,
        panic,
        localityWeighted,
        limits(c),
        outlier(c),
        idle,
        keepalive,
        healthCheck(c),
        downstreamProtocol,
        c.hasPerConnectionBufferLimitBytes()
            ? ListenerParser.bufferLimitValue(c.getPerConnectionBufferLimitBytes().getValue())
            : ClusterPolicy.DEFAULT.bufferLimitBytes(),
        ListenerParser.window(
            h2.hasInitialStreamWindowSize(),
            h2.getInitialStreamWindowSize().getValue(),
            h2Field + ".initial_stream_window_size"),
        ListenerParser.window(
            h2.hasInitialConnectionWindowSize(),
            h2.getInitialConnectionWindowSize().getValue(),
            h2Field + ".initial_connection_window_size"),
        maxConcurrentStreams(h2, h2Field + ".max_concurrent_streams"),
        http1Trailers,
        maxDuration,
        preconnectRatio(c),
        maxResponseHeadersCount(httpCommon, commonField),
        maxResponseHeadersKb(httpCommon, commonField),
        h2.hasConnectionKeepalive()
            ? ListenerParser.keepalive(
                h2.getConnectionKeepalive(), h2Field + ".connection_keepalive")
            : null);
  }

  /**
   * {@code max_headers_count} of the cluster's common HTTP options (those of its {@code
   * HttpProtocolOptions} when it has them, as Envoy's {@code createOptions}): the most response
   * header fields its upstream codecs take; Envoy's default 100, at least 1.
   */
  private static int maxResponseHeadersCount(
      io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions common, String field)
      throws InvalidResourceException {
    if (!common.hasMaxHeadersCount()) {
      return dev.bowline.proxy.config.CodecOptions.DEFAULT_MAX_HEADERS_COUNT;
    }
    int n = common.getMaxHeadersCount().getValue();
    if (n < 1) {
      throw new InvalidResourceException(
          field + ".max_headers_count", "must be at least 1, got " + Integer.toUnsignedString(n));
    }
    return n;
  }

  /**
   * {@code max_response_headers_kb} of the cluster's common HTTP options: Envoy's range (0, 8192];
   * 0 when unset (each codec's default).
   */
  private static int maxResponseHeadersKb(
      io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions common, String field)
      throws InvalidResourceException {
    if (!common.hasMaxResponseHeadersKb()) {
      return 0;
    }
    int kb = common.getMaxResponseHeadersKb().getValue();
    if (kb < 1 || kb > 8192) {
      throw new InvalidResourceException(
          field + ".max_response_headers_kb",
          "must be in [1, 8192], got " + Integer.toUnsignedString(kb));
    }
    return kb;
  }

  /** {@code preconnect_policy.per_upstream_preconnect_ratio}: Envoy's range [1, 3], default 1. */
  private static double preconnectRatio(Cluster c) throws InvalidResourceException {
    if (!c.hasPreconnectPolicy() || !c.getPreconnectPolicy().hasPerUpstreamPreconnectRatio()) {
      return 1.0;
    }
    double r = c.getPreconnectPolicy().getPerUpstreamPreconnectRatio().getValue();
    if (!(r >= 1 && r <= 3)) {
      throw new InvalidResourceException(
          "preconnect_policy.per_upstream_preconnect_ratio", "must be in [1, 3], got " + r);
    }
    return r;
  }

  /** {@code http2_protocol_options.max_concurrent_streams}: Envoy's range [1, 2^31-1], default. */
  private static int maxConcurrentStreams(
      io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions h2, String field)
      throws InvalidResourceException {
    if (!h2.hasMaxConcurrentStreams()) {
      return dev.bowline.proxy.config.CodecOptions.DEFAULT_MAX_CONCURRENT_STREAMS;
    }
    int n = h2.getMaxConcurrentStreams().getValue();
    if (n < 1) {
      throw new InvalidResourceException(
          field, "must be in [1, 2147483647], got " + Integer.toUnsignedString(n));
    }
    return n;
  }

  private static Optional<ClusterPolicy.HealthCheck> healthCheck(Cluster c)
      throws InvalidResourceException {
    if (c.getHealthChecksCount() == 0) {
      return Optional.empty();
    }
    if (c.getHealthChecksCount() > 1) {
      throw new InvalidResourceException("health_checks", "only one health check is supported");
    }
    var h = c.getHealthChecks(0);
    String f = "health_checks[0]";
    if (!h.hasTimeout() || !h.hasInterval()) {
      throw new InvalidResourceException(f, "timeout and interval are required");
    }
    Duration timeout = Protos.duration(h.getTimeout());
    Duration interval = Protos.duration(h.getInterval());
    if (timeout.isZero() || interval.isZero() || timeout.isNegative() || interval.isNegative()) {
      throw new InvalidResourceException(f, "timeout and interval must be positive");
    }
    if (!h.hasUnhealthyThreshold() || !h.hasHealthyThreshold()) {
      throw new InvalidResourceException(
          f, "unhealthy_threshold and healthy_threshold are required");
    }
    ClusterPolicy.Probe probe =
        switch (h.getHealthCheckerCase()) {
          case HTTP_HEALTH_CHECK -> httpProbe(c, h.getHttpHealthCheck(), f + ".http_health_check");
          case TCP_HEALTH_CHECK -> {
            var tcp = h.getTcpHealthCheck();
            String tf = f + ".tcp_health_check";
            java.util.List<String> receive = new java.util.ArrayList<>();
            for (int i = 0; i < tcp.getReceiveCount(); i++) {
              receive.add(payload(tcp.getReceive(i), tf + ".receive[" + i + "]"));
            }
            yield new ClusterPolicy.TcpProbe(
                tcp.hasSend() ? payload(tcp.getSend(), tf + ".send") : "", receive);
          }
          case GRPC_HEALTH_CHECK -> {
            var g = h.getGrpcHealthCheck();
            if (g.getInitialMetadataCount() > 0) {
              throw new InvalidResourceException(
                  f + ".grpc_health_check.initial_metadata", "is not supported");
            }
            yield new ClusterPolicy.GrpcProbe(
                g.getServiceName(), g.getAuthority().isEmpty() ? c.getName() : g.getAuthority());
          }
          default ->
              throw new InvalidResourceException(
                  f, h.getHealthCheckerCase() + " is not supported (http, tcp or grpc only)");
        };
    if (h.hasAltPort()) {
      throw new InvalidResourceException(f + ".alt_port", "is not supported");
    }
    java.util.Optional<java.util.Map<String, String>> criteria = java.util.Optional.empty();
    if (h.hasTransportSocketMatchCriteria()) {
      java.util.Map<String, String> m = new java.util.TreeMap<>();
      for (var e : h.getTransportSocketMatchCriteria().getFieldsMap().entrySet()) {
        m.put(e.getKey(), TlsParser.value(e.getValue()));
      }
      criteria = java.util.Optional.of(m);
    }
    var connection =
        new ClusterPolicy.Connection(
            !h.hasReuseConnection() || h.getReuseConnection().getValue(),
            criteria,
            h.getTlsOptions().getAlpnProtocolsList());
    // Envoy's defaults (HealthCheckerImplBase): no_traffic_interval 60 s, unhealthy_interval and
    // healthy_edge_interval the interval, unhealthy_edge_interval the unhealthy_interval
    Duration noTraffic =
        positive(h.hasNoTrafficInterval(), h.getNoTrafficInterval(), f, "no_traffic_interval");
    Duration unhealthy =
        positive(h.hasUnhealthyInterval(), h.getUnhealthyInterval(), f, "unhealthy_interval");
    Duration unhealthyEdge =
        positive(
            h.hasUnhealthyEdgeInterval(),
            h.getUnhealthyEdgeInterval(),
            f,
            "unhealthy_edge_interval");
    Duration healthyEdge =
        positive(
            h.hasHealthyEdgeInterval(), h.getHealthyEdgeInterval(), f, "healthy_edge_interval");
    Duration noTrafficHealthy =
        positive(
            h.hasNoTrafficHealthyInterval(),
            h.getNoTrafficHealthyInterval(),
            f,
            "no_traffic_healthy_interval");
    unhealthy = unhealthy == null ? interval : unhealthy;
    if (h.getIntervalJitterPercent() > 100) {
      throw new InvalidResourceException(f + ".interval_jitter_percent", "must be at most 100");
    }
    return Optional.of(
        new ClusterPolicy.HealthCheck(
            timeout,
            interval,
            h.getUnhealthyThreshold().getValue(),
            h.getHealthyThreshold().getValue(),
            probe,
            noTraffic == null ? Duration.ofSeconds(60) : noTraffic,
            noTrafficHealthy == null ? Duration.ZERO : noTrafficHealthy,
            unhealthy,
            unhealthyEdge == null ? unhealthy : unhealthyEdge,
            healthyEdge == null ? interval : healthyEdge,
            h.hasInitialJitter() ? Protos.duration(h.getInitialJitter()) : Duration.ZERO,
            h.hasIntervalJitter() ? Protos.duration(h.getIntervalJitter()) : Duration.ZERO,
            h.getIntervalJitterPercent(),
            c.getCommonLbConfig().getIgnoreNewHostsUntilFirstHc(),
            c.getIgnoreHealthOnHostRemoval(),
            connection));
  }

  private static ClusterPolicy.HttpProbe httpProbe(
      Cluster c, io.envoyproxy.envoy.config.core.v3.HealthCheck.HttpHealthCheck http, String f)
      throws InvalidResourceException {
    if (!http.getPath().startsWith("/")) {
      throw new InvalidResourceException(f + ".path", "must start with /");
    }
    java.util.List<ClusterPolicy.StatusRange> expected = new java.util.ArrayList<>();
    for (var r : http.getExpectedStatusesList()) {
      expected.add(new ClusterPolicy.StatusRange((int) r.getStart(), (int) r.getEnd()));
    }
    if (expected.isEmpty()) {
      expected.add(new ClusterPolicy.StatusRange(200, 201));
    }
    java.util.List<ClusterPolicy.StatusRange> retriable = new java.util.ArrayList<>();
    for (var r : http.getRetriableStatusesList()) {
      retriable.add(new ClusterPolicy.StatusRange((int) r.getStart(), (int) r.getEnd()));
    }
    for (var r : expected) {
      statusRange(f + ".expected_statuses", r);
    }
    for (var r : retriable) {
      statusRange(f + ".retriable_statuses", r);
    }
    String method =
        switch (http.getMethod()) {
          case METHOD_UNSPECIFIED -> "GET";
          case CONNECT, UNRECOGNIZED ->
              throw new InvalidResourceException(
                  f + ".method", "must not be " + http.getMethod() + " (Envoy's not_in CONNECT)");
          default -> http.getMethod().name();
        };
    for (int i = 0; i < http.getRequestHeadersToRemoveCount(); i++) {
      String n = http.getRequestHeadersToRemove(i).toLowerCase(java.util.Locale.ROOT);
      if (n.isEmpty() || n.startsWith(":") || n.equals("host")) {
        throw new InvalidResourceException(
            f + ".request_headers_to_remove[" + i + "]", "cannot remove '" + n + "'");
      }
    }
    var headers =
        RouteConfigParser.mutation(
            http.getRequestHeadersToAddList(),
            http.getRequestHeadersToRemoveList(),
            f + ".request_headers_to_add");
    boolean h2 =
        switch (http.getCodecClientType()) {
          case HTTP1 -> false;
          case HTTP2 -> true;
          default ->
              throw new InvalidResourceException(
                  f + ".codec_client_type", http.getCodecClientType() + " is not supported");
        };
    if (http.hasServiceNameMatcher()) {
      throw new InvalidResourceException(f + ".service_name_matcher", "is not supported");
    }
    if (http.hasSend()) {
      throw new InvalidResourceException(f + ".send", "is not supported");
    }
    java.util.List<String> receive = new java.util.ArrayList<>();
    for (int i = 0; i < http.getReceiveCount(); i++) {
      receive.add(payload(http.getReceive(i), f + ".receive[" + i + "]"));
    }
    long buffer = http.hasResponseBufferSize() ? http.getResponseBufferSize().getValue() : 1024;
    if (buffer < 1 || buffer > Integer.MAX_VALUE) {
      // Envoy: 0 means the default (1024); cap as a Java buffer
      buffer = buffer == 0 ? 1024 : Integer.MAX_VALUE;
    }
    return new ClusterPolicy.HttpProbe(
        http.getPath(),
        http.getHost().isEmpty() ? c.getName() : http.getHost(),
        expected,
        retriable,
        method,
        headers,
        h2,
        receive,
        (int) buffer);
  }

  /** Envoy's {@code Payload}, as lowercase hex: {@code text} is hex already, {@code binary} raw. */
  private static String payload(io.envoyproxy.envoy.config.core.v3.HealthCheck.Payload p, String f)
      throws InvalidResourceException {
    return switch (p.getPayloadCase()) {
      case TEXT -> {
        String t = p.getText();
        if (t.isEmpty()) {
          throw new InvalidResourceException(f + ".text", "must not be empty");
        }
        try {
          yield java.util.HexFormat.of().formatHex(java.util.HexFormat.of().parseHex(t));
        } catch (IllegalArgumentException e) {
          throw new InvalidResourceException(f + ".text", "is not hex: " + e.getMessage());
        }
      }
      case BINARY -> java.util.HexFormat.of().formatHex(p.getBinary().toByteArray());
      default -> throw new InvalidResourceException(f, "text or binary is required");
    };
  }

  /**
   * {@code f.name} when {@code has}, which must be positive (Envoy's {@code gt: {}}); else null.
   */
  private static @org.jspecify.annotations.Nullable Duration positive(
      boolean has, com.google.protobuf.Duration d, String f, String name)
      throws InvalidResourceException {
    if (!has) {
      return null;
    }
    Duration v = Protos.duration(d);
    if (v.isZero() || v.isNegative()) {
      throw new InvalidResourceException(f + "." + name, "must be positive");
    }
    return v;
  }

  /** Envoy's {@code Int64Range} of statuses: {@code [start, end)} within [100, 600). */
  private static void statusRange(String field, ClusterPolicy.StatusRange r)
      throws InvalidResourceException {
    if (r.start() < 100 || r.end() > 600 || r.start() >= r.end()) {
      throw new InvalidResourceException(field, "must be a range [start, end) within [100, 600)");
    }
  }

  private static ClusterPolicy.Lb ringHash(Cluster c) throws InvalidResourceException {
    var r = c.getRingHashLbConfig();
    if (r.getHashFunction() != Cluster.RingHashLbConfig.HashFunction.XX_HASH) {
      throw new InvalidResourceException(
          "ring_hash_lb_config.hash_function", r.getHashFunction() + " is not supported");
    }
    long min = r.hasMinimumRingSize() ? r.getMinimumRingSize().getValue() : 1024;
    long max = r.hasMaximumRingSize() ? r.getMaximumRingSize().getValue() : 8L * 1024 * 1024;
    if (min < 1 || max > 8L * 1024 * 1024) {
      throw new InvalidResourceException(
          "ring_hash_lb_config", "ring sizes must be within [1, 8388608]");
    }
    if (min > max) {
      throw new InvalidResourceException(
          "ring_hash_lb_config.minimum_ring_size",
          "must not exceed maximum_ring_size (" + max + ")");
    }
    return new ClusterPolicy.RingHash(min, max);
  }

  private static ClusterPolicy.Lb maglev(Cluster c) throws InvalidResourceException {
    long size =
        c.getMaglevLbConfig().hasTableSize()
            ? c.getMaglevLbConfig().getTableSize().getValue()
            : 65537;
    if (size < 2 || size > 5000011 || !BigInteger.valueOf(size).isProbablePrime(30)) {
      throw new InvalidResourceException(
          "maglev_lb_config.table_size", "must be a prime number up to 5000011, not " + size);
    }
    return new ClusterPolicy.Maglev(size);
  }

  private static ClusterPolicy.Lb leastRequest(Cluster c) throws InvalidResourceException {
    var l = c.getLeastRequestLbConfig();
    int choices = l.hasChoiceCount() ? l.getChoiceCount().getValue() : 2;
    if (choices < 2) {
      throw new InvalidResourceException(
          "least_request_lb_config.choice_count", "must be at least 2");
    }
    double bias = l.hasActiveRequestBias() ? l.getActiveRequestBias().getDefaultValue() : 1.0;
    if (bias < 0) {
      throw new InvalidResourceException(
          "least_request_lb_config.active_request_bias", "must not be negative");
    }
    return new ClusterPolicy.LeastRequest(choices, bias);
  }

  private static ClusterPolicy.SlowStart slowStart(Cluster.SlowStartConfig s, String field)
      throws InvalidResourceException {
    if (!s.hasSlowStartWindow()) {
      throw new InvalidResourceException(field + ".slow_start_window", "is required");
    }
    Duration window = Protos.duration(s.getSlowStartWindow());
    double aggression = s.hasAggression() ? s.getAggression().getDefaultValue() : 1.0;
    if (aggression <= 0) {
      throw new InvalidResourceException(field + ".aggression", "must be positive");
    }
    double min = s.hasMinWeightPercent() ? s.getMinWeightPercent().getValue() : 10.0;
    return new ClusterPolicy.SlowStart(window, aggression, min);
  }

  private static ClusterPolicy.Limits limits(Cluster c) {
    for (var t : c.getCircuitBreakers().getThresholdsList()) {
      if (t.getPriority() != RoutingPriority.DEFAULT) {
        continue; // requests here are all of default priority
      }
      var d = ClusterPolicy.Limits.DEFAULT;
      return new ClusterPolicy.Limits(
          t.hasMaxConnections() ? unsigned(t.getMaxConnections().getValue()) : d.maxConnections(),
          t.hasMaxPendingRequests()
              ? unsigned(t.getMaxPendingRequests().getValue())
              : d.maxPendingRequests(),
          t.hasMaxRequests() ? unsigned(t.getMaxRequests().getValue()) : d.maxRequests(),
          t.hasMaxRetries() ? unsigned(t.getMaxRetries().getValue()) : d.maxRetries());
    }
    return ClusterPolicy.Limits.DEFAULT;
  }

  private static long unsigned(int v) {
    return Integer.toUnsignedLong(v);
  }

  private static Optional<ClusterPolicy.Outlier> outlier(Cluster c)
      throws InvalidResourceException {
    if (!c.hasOutlierDetection()) {
      return Optional.empty();
    }
    OutlierDetection o = c.getOutlierDetection();
    Duration interval = o.hasInterval() ? Protos.duration(o.getInterval()) : Duration.ofSeconds(10);
    if (interval.isZero() || interval.isNegative()) {
      throw new InvalidResourceException("outlier_detection.interval", "must be positive");
    }
    Duration base =
        o.hasBaseEjectionTime() ? Protos.duration(o.getBaseEjectionTime()) : Duration.ofSeconds(30);
    Duration max =
        o.hasMaxEjectionTime() ? Protos.duration(o.getMaxEjectionTime()) : Duration.ofSeconds(300);
    int maxPercent = o.hasMaxEjectionPercent() ? o.getMaxEjectionPercent().getValue() : 10;
    for (var p :
        new Object[][] {
          {
            "enforcing_consecutive_5xx",
            o.hasEnforcingConsecutive5Xx(),
            o.getEnforcingConsecutive5Xx().getValue()
          },
          {
            "enforcing_consecutive_gateway_failure",
            o.hasEnforcingConsecutiveGatewayFailure(),
            o.getEnforcingConsecutiveGatewayFailure().getValue()
          },
          {
            "enforcing_consecutive_local_origin_failure",
            o.hasEnforcingConsecutiveLocalOriginFailure(),
            o.getEnforcingConsecutiveLocalOriginFailure().getValue()
          },
          {"max_ejection_percent", o.hasMaxEjectionPercent(), maxPercent},
          {
            "enforcing_success_rate",
            o.hasEnforcingSuccessRate(),
            o.getEnforcingSuccessRate().getValue()
          },
          {
            "enforcing_failure_percentage",
            o.hasEnforcingFailurePercentage(),
            o.getEnforcingFailurePercentage().getValue()
          },
          {
            "failure_percentage_threshold",
            o.hasFailurePercentageThreshold(),
            o.getFailurePercentageThreshold().getValue()
          }
        }) {
      if ((boolean) p[1] && (int) p[2] > 100) {
        throw new InvalidResourceException("outlier_detection." + p[0], "must be at most 100");
      }
    }
    return Optional.of(
        new ClusterPolicy.Outlier(
            o.hasConsecutive5Xx() ? o.getConsecutive5Xx().getValue() : 5,
            o.hasEnforcingConsecutive5Xx() ? o.getEnforcingConsecutive5Xx().getValue() : 100,
            o.hasConsecutiveGatewayFailure() ? o.getConsecutiveGatewayFailure().getValue() : 5,
            o.hasEnforcingConsecutiveGatewayFailure()
                ? o.getEnforcingConsecutiveGatewayFailure().getValue()
                : 0,
            o.hasConsecutiveLocalOriginFailure()
                ? o.getConsecutiveLocalOriginFailure().getValue()
                : 5,
            o.hasEnforcingConsecutiveLocalOriginFailure()
                ? o.getEnforcingConsecutiveLocalOriginFailure().getValue()
                : 100,
            o.getSplitExternalLocalOriginErrors(),
            interval,
            base,
            max,
            maxPercent,
            rates(o)));
  }

  private static ClusterPolicy.Rates rates(OutlierDetection o) {
    var d = ClusterPolicy.Rates.DEFAULT;
    return new ClusterPolicy.Rates(
        o.hasSuccessRateMinimumHosts()
            ? o.getSuccessRateMinimumHosts().getValue()
            : d.successRateMinimumHosts(),
        o.hasSuccessRateRequestVolume()
            ? o.getSuccessRateRequestVolume().getValue()
            : d.successRateRequestVolume(),
        o.hasSuccessRateStdevFactor()
            ? o.getSuccessRateStdevFactor().getValue()
            : d.successRateStdevFactor(),
        o.hasEnforcingSuccessRate()
            ? o.getEnforcingSuccessRate().getValue()
            : d.enforcingSuccessRate(),
        o.hasFailurePercentageThreshold()
            ? o.getFailurePercentageThreshold().getValue()
            : d.failurePercentageThreshold(),
        o.hasFailurePercentageMinimumHosts()
            ? o.getFailurePercentageMinimumHosts().getValue()
            : d.failurePercentageMinimumHosts(),
        o.hasFailurePercentageRequestVolume()
            ? o.getFailurePercentageRequestVolume().getValue()
            : d.failurePercentageRequestVolume(),
        o.hasEnforcingFailurePercentage()
            ? o.getEnforcingFailurePercentage().getValue()
            : d.enforcingFailurePercentage());
  }
}
