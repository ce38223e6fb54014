package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a cluster's load balancer, circuit breakers, outlier detector and connection pools do beyond
 * picking a discovery type: the parts of an Envoy {@code Cluster} that shape how requests spread
 * and when they are refused.
 *
 * @param lb the policy's parameters ({@code ring_hash_lb_config}, {@code maglev_lb_config}, {@code
 *     least_request_lb_config}); {@link Lb.Plain} for policies without any
 * @param slowStart {@code slow_start_config} of round robin or least request, if set
 * @param panicThresholdPercent {@code common_lb_config.healthy_panic_threshold} (Envoy's default
 *     50; 0 disables panic)
 * @param localityWeighted {@code common_lb_config.locality_weighted_lb_config} is set
 * @param limits {@code circuit_breakers} thresholds of the DEFAULT priority
 * @param outlier {@code outlier_detection}, if set
 * @param idleTimeout {@code common_http_protocol_options.idle_timeout} of upstream connections
 *     (Envoy's default 1 h; zero disables)
 * @param tcpKeepalive {@code upstream_connection_options.tcp_keepalive}, if set
 * @param healthCheck {@code health_checks} (at most one), if set
 * @param downstreamProtocol {@code use_downstream_protocol_config}: HTTP/2 upstream for HTTP/2
 *     downstream requests, HTTP/1.1 for the others (Istio's {@code useClientProtocol})
 * @param bufferLimitBytes {@code per_connection_buffer_limit_bytes}: the write buffer high
 *     watermark of an upstream connection (low: half), above which the request's downstream stops
 *     being read; Envoy's default 1 MiB, 0 for Netty's default
 * @param http2StreamWindow {@code http2_protocol_options.initial_stream_window_size} of upstream
 *     HTTP/2 connections (Envoy's default 256 MiB)
 * @param http2ConnectionWindow {@code http2_protocol_options.initial_connection_window_size}
 *     (Envoy's default 256 MiB)
 * @param http2MaxConcurrentStreams {@code http2_protocol_options.max_concurrent_streams}: the most
 *     streams one upstream HTTP/2 connection carries at once (fewer if the peer's SETTINGS say so);
 *     Envoy's default 2^31-1
 * @param http1EnableTrailers {@code http_protocol_options.enable_trailers} of upstream HTTP/1.1
 *     connections: whether request trailers are written to them and response trailers read from
 *     them; when false, the default, Envoy's HTTP/1 codec drops both
 * @param maxConnectionDuration {@code common_http_protocol_options.max_connection_duration}: an
 *     upstream connection this old takes no new request and closes once idle; zero: never
 * @param preconnectRatio {@code preconnect_policy.per_upstream_preconnect_ratio}: HTTP/1.1
 *     connections a host keeps busy, idle or connecting per request in flight, in [1, 3]; 1 (the
 *     default) connects on demand only
 * @param maxResponseHeadersCount {@code common_http_protocol_options.max_headers_count}: the most
 *     header (or trailer) fields of a response an upstream connection takes (Envoy's default 100)
 * @param maxResponseHeadersKb {@code common_http_protocol_options.max_response_headers_kb}: the
 *     most KiB of a response head an upstream connection takes; 0 when unset, for the codec's
 *     default (Envoy's: 80 KiB on HTTP/1.1, 60 KiB on HTTP/2)
 * @param http2Keepalive the upstream HTTP/2 options' {@code connection_keepalive}: PINGs on an
 *     interval and before a stream on a connection idle {@code connection_idle_interval}, the
 *     connection closed when one is not answered in time; null, Envoy's default: none
 */
public record ClusterPolicy(
    Lb lb,
    Optional<SlowStart> slowStart,
    int panicThresholdPercent,
    boolean localityWeighted,
    Limits limits,
    Optional<Outlier> outlier,
    Duration idleTimeout,
    Optional<TcpKeepalive> tcpKeepalive,
    Optional<HealthCheck> healthCheck,
    boolean downstreamProtocol,
    int bufferLimitBytes,
    int http2StreamWindow,
    int http2ConnectionWindow,
    int http2MaxConcurrentStreams,
    boolean http1EnableTrailers,
    Duration maxConnectionDuration,
    double preconnectRatio,
    int maxResponseHeadersCount,
    int maxResponseHeadersKb,
    @org.jspecify.annotations.Nullable KeepaliveSettings http2Keepalive) {

  /** Envoy's HTTP/1 client codec's head limit when {@code max_response_headers_kb} is unset. */
  public static final int HTTP1_RESPONSE_HEADERS_KB = 80;

  /**
   * Envoy's HTTP/2 client codec's head limit when {@code max_response_headers_kb} is unset ({@code
   * DEFAULT_MAX_REQUEST_HEADERS_KB}, which {@code codec_client.cc} passes for HTTP/2).
   */
  public static final int HTTP2_RESPONSE_HEADERS_KB = 60;

  /** The response head limit in bytes of an HTTP/1.1 upstream connection. */
  public int http1ResponseHeadBytes() {
    return (maxResponseHeadersKb == 0 ? HTTP1_RESPONSE_HEADERS_KB : maxResponseHeadersKb) * 1024;
  }

  /** The response header list limit in bytes of an HTTP/2 upstream connection. */
  public int http2ResponseHeadBytes() {
    return (maxResponseHeadersKb == 0 ? HTTP2_RESPONSE_HEADERS_KB : maxResponseHeadersKb) * 1024;
  }

  /** Envoy's defaults: nothing set on the cluster. */
  public static final ClusterPolicy DEFAULT =
      new ClusterPolicy(
          new Plain(),
          Optional.empty(),
          50,
          false,
          Limits.DEFAULT,
          Optional.empty(),
          Duration.ofHours(1),
          Optional.empty(),
          Optional.empty(),
          false,
          1 << 20,
          CodecOptions.DEFAULT_WINDOW_SIZE,
          CodecOptions.DEFAULT_WINDOW_SIZE,
          CodecOptions.DEFAULT_MAX_CONCURRENT_STREAMS,
          false,
          Duration.ZERO,
          1.0,
          CodecOptions.DEFAULT_MAX_HEADERS_COUNT,
          0,
          null);

  public ClusterPolicy {
    Objects.requireNonNull(lb, "lb");
    Objects.requireNonNull(limits, "limits");
    if (http2MaxConcurrentStreams < 1) {
      throw new IllegalArgumentException("http2MaxConcurrentStreams must be positive");
    }
    if (!(preconnectRatio >= 1 && preconnectRatio <= 3)) {
      throw new IllegalArgumentException("preconnectRatio must be in [1, 3]");
    }
    if (maxResponseHeadersCount < 1) {
      throw new IllegalArgumentException("maxResponseHeadersCount must be positive");
    }
    if (maxResponseHeadersKb < 0 || maxResponseHeadersKb > 8192) {
      throw new IllegalArgumentException("maxResponseHeadersKb must be in [0, 8192]");
    }
  }

  /** Load-balancer parameters, one record per policy that has any. */
  public sealed interface Lb {}

  /** ROUND_ROBIN, RANDOM: no parameters. */
  public record Plain() implements Lb {}

  /**
   * LEAST_REQUEST: {@code choiceCount} hosts compared when weights are equal (power of two
   * choices), {@code activeRequestBias} for the weighted case (weight / (active + 1)^bias).
   */
  public record LeastRequest(int choiceCount, double activeRequestBias) implements Lb {}

  /** RING_HASH: the ring's size bounds (Envoy's defaults 1024 and 8M). */
  public record RingHash(long minimumRingSize, long maximumRingSize) implements Lb {}

  /** MAGLEV: the lookup table's size, a prime (Envoy's default 65537). */
  public record Maglev(long tableSize) implements Lb {}

  /**
   * Slow start: a host new to the cluster gets a weight growing from {@code minWeightPercent} to
   * its full weight over {@code window}, as {@code (age / window)^(1 / aggression)}.
   */
  public record SlowStart(Duration window, double aggression, double minWeightPercent) {}

  /**
   * Circuit breaker thresholds, cluster-wide across all event loops ({@code Long.MAX_VALUE} for
   * unlimited). Envoy's defaults are 1024, 1024, 1024 and 3.
   */
  public record Limits(
      long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries) {
    public static final Limits DEFAULT = new Limits(1024, 1024, 1024, 3);
  }

  /**
   * {@code outlier_detection}, the consecutive-error detectors (success-rate and failure-percentage
   * detectors are not implemented; setting them is reported by the parser).
   *
   * @param consecutive5xx errors in a row that eject (with {@code enforcing5xx} percent)
   * @param consecutiveGatewayFailure 502/503/504 in a row that eject
   * @param consecutiveLocalOriginFailure connect failures, timeouts and resets in a row that eject
   *     (only with {@code splitExternalLocalOriginErrors})
   * @param splitExternalLocalOriginErrors local-origin errors count apart from HTTP status; without
   *     it they count as 503s
   * @param interval how often ejections are reviewed
   * @param baseEjectionTime ejection time per ejection so far
   * @param maxEjectionTime the longest an ejection lasts
   * @param maxEjectionPercent the most hosts ejected at once, in percent of the cluster's hosts
   * @param rates the success-rate and failure-percentage detectors
   */
  public record Outlier(
      int consecutive5xx,
      int enforcing5xx,
      int consecutiveGatewayFailure,
      int enforcingGatewayFailure,
      int consecutiveLocalOriginFailure,
      int enforcingLocalOriginFailure,
      boolean splitExternalLocalOriginErrors,
      Duration interval,
      Duration baseEjectionTime,
      Duration maxEjectionTime,
      int maxEjectionPercent,
      Rates rates) {

    /** Consecutive detectors only, with Envoy's defaults for the rate-based ones. */
    public Outlier(
        int consecutive5xx,
        int enforcing5xx,
        int consecutiveGatewayFailure,
        int enforcingGatewayFailure,
        int consecutiveLocalOriginFailure,
        int enforcingLocalOriginFailure,
        boolean splitExternalLocalOriginErrors,
        Duration interval,
        Duration baseEjectionTime,
        Duration maxEjectionTime,
        int maxEjectionPercent) {
      this(
          consecutive5xx,
          enforcing5xx,
          consecutiveGatewayFailure,
          enforcingGatewayFailure,
          consecutiveLocalOriginFailure,
          enforcingLocalOriginFailure,
          splitExternalLocalOriginErrors,
          interval,
          baseEjectionTime,
          maxEjectionTime,
          maxEjectionPercent,
          Rates.DEFAULT);
    }
  }

  /**
   * Envoy's interval-based detectors. Success rate: among hosts with at least {@code
   * successRateRequestVolume} requests in the interval, when there are {@code
   * successRateMinimumHosts} of them, a host whose success rate is below mean − ({@code
   * successRateStdevFactor}/1000) × stdev is ejected ({@code enforcingSuccessRate} percent).
   * Failure percentage: among hosts with {@code failurePercentageRequestVolume} requests, when
   * there are {@code failurePercentageMinimumHosts} of them, a host failing at least {@code
   * failurePercentageThreshold} percent is ejected ({@code enforcingFailurePercentage} percent).
   */
  public record Rates(
      int successRateMinimumHosts,
      int successRateRequestVolume,
      int successRateStdevFactor,
      int enforcingSuccessRate,
      int failurePercentageThreshold,
      int failurePercentageMinimumHosts,
      int failurePercentageRequestVolume,
      int enforcingFailurePercentage) {
    /** Envoy's defaults: success rate on (5 hosts, 100 requests, 1.9 stdev), failure % off. */
    public static final Rates DEFAULT = new Rates(5, 100, 1900, 100, 85, 5, 50, 0);

    /** Whether either detector can eject: requests must then be counted per host. */
    public boolean enabled() {
      return enforcingSuccessRate > 0 || enforcingFailurePercentage > 0;
    }

    /** The fewest hosts a cluster needs for an enabled detector to act. */
    public int minimumHosts() {
      int m = Integer.MAX_VALUE;
      if (enforcingSuccessRate > 0) {
        m = Math.min(m, successRateMinimumHosts);
      }
      if (enforcingFailurePercentage > 0) {
        m = Math.min(m, failurePercentageMinimumHosts);
      }
      return m;
    }
  }

  /**
   * An active health check (Envoy's health checker session per endpoint): each endpoint is probed
   * at once (after up to {@code initialJitter}), then after each probe again after an interval that
   * depends on the result and on whether the cluster ever carried traffic, as Envoy's {@code
   * HealthCheckerImplBase::interval}: without any upstream connection yet, {@code
   * noTrafficInterval} ({@code noTrafficHealthyInterval} after a success when set, else zero);
   * otherwise {@code interval} after a success, {@code healthyEdgeInterval} after one that did not
   * yet turn an unhealthy endpoint healthy, {@code unhealthyInterval} after a failure, {@code
   * unhealthyEdgeInterval} after one that did not yet turn a healthy endpoint unhealthy; each plus
   * a random jitter below {@code intervalJitter} and below {@code intervalJitterPercent} of it. An
   * endpoint's first success makes it healthy; a failed answer (an HTTP status not expected, not
   * retriable) makes it unhealthy at once, {@code unhealthyThreshold} network failures (no
   * connection, timeout) or retriable answers in a row do; {@code healthyThreshold} successes bring
   * it back. With {@code warmHosts} ({@code common_lb_config.ignore_new_hosts_until_first_hc}) an
   * endpoint is left out of load balancing altogether until its first check ends. An endpoint EDS
   * removes while it passes its checks stays (Envoy's {@code PENDING_DYNAMIC_REMOVAL}) until it
   * fails one, unless {@code ignoreHealthOnHostRemoval} (the cluster's {@code
   * ignore_health_on_host_removal}) removes it at once.
   */
  public record HealthCheck(
      Duration timeout,
      Duration interval,
      int unhealthyThreshold,
      int healthyThreshold,
      Probe probe,
      Duration noTrafficInterval,
      Duration noTrafficHealthyInterval,
      Duration unhealthyInterval,
      Duration unhealthyEdgeInterval,
      Duration healthyEdgeInterval,
      Duration initialJitter,
      Duration intervalJitter,
      int intervalJitterPercent,
      boolean warmHosts,
      boolean ignoreHealthOnHostRemoval,
      Connection connection) {

    /** A check with Envoy's defaults for every interval but {@code interval} itself. */
    public HealthCheck(
        Duration timeout,
        Duration interval,
        int unhealthyThreshold,
        int healthyThreshold,
        Probe probe) {
      this(
          timeout,
          interval,
          unhealthyThreshold,
          healthyThreshold,
          probe,
          Duration.ofSeconds(60),
          Duration.ZERO,
          interval,
          interval,
          interval,
          Duration.ZERO,
          Duration.ZERO,
          0,
          false,
          false,
          Connection.DEFAULT);
    }
  }

  /**
   * How a health check reaches an endpoint: {@code reuse_connection} (Envoy's default true: the
   * probe connection stays open between checks), {@code transport_socket_match_criteria} (when
   * present, chooses among the cluster's {@code transport_socket_matches} instead of the endpoint's
   * metadata; no match is the cluster's {@code transport_socket}) and {@code
   * tls_options.alpn_protocols} (replacing the TLS context's ALPN when not empty).
   */
  public record Connection(
      boolean reuse,
      java.util.Optional<java.util.Map<String, String>> matchCriteria,
      java.util.List<String> alpn) {
    public static final Connection DEFAULT =
        new Connection(true, java.util.Optional.empty(), java.util.List.of());

    public Connection {
      matchCriteria = matchCriteria.map(java.util.Map::copyOf);
      alpn = java.util.List.copyOf(alpn);
    }
  }

  /** What a health check sends. */
  public sealed interface Probe {}

  /**
   * {@code http_health_check}: {@code GET path} with {@code host} (the cluster's name when empty);
   * healthy when the status is in one of {@code expected} ({@code [start, end)}), 200 by default; a
   * status in {@code retriable} (and not expected) counts towards {@code unhealthy_threshold} as a
   * network failure does, any other fails the endpoint at once. {@code method} (GET unless set),
   * {@code headers} ({@code request_headers_to_add/remove}), {@code http2} ({@code
   * codec_client_type: HTTP2}: h2, prior knowledge without TLS) and {@code receiveHex} (the body
   * must hold these blocks in order, within its first {@code responseBufferSize} bytes) shape the
   * probe.
   */
  public record HttpProbe(
      String path,
      String host,
      java.util.List<StatusRange> expected,
      java.util.List<StatusRange> retriable,
      String method,
      HeaderMutation headers,
      boolean http2,
      java.util.List<String> receiveHex,
      int responseBufferSize)
      implements Probe {
    public HttpProbe {
      expected = java.util.List.copyOf(expected);
      retriable = java.util.List.copyOf(retriable);
      receiveHex = java.util.List.copyOf(receiveHex);
    }

    public HttpProbe(String path, String host, java.util.List<StatusRange> expected) {
      this(
          path,
          host,
          expected,
          java.util.List.of(),
          "GET",
          HeaderMutation.NONE,
          false,
          java.util.List.of(),
          1024);
    }
  }

  /**
   * {@code grpc_health_check}: {@code grpc.health.v1.Health/Check} over HTTP/2 for {@code service}
   * with {@code :authority} {@code authority}; healthy when the answer is {@code SERVING}.
   */
  public record GrpcProbe(String service, String authority) implements Probe {}

  /** HTTP statuses {@code [start, end)}. */
  public record StatusRange(int start, int end) {}

  /**
   * {@code tcp_health_check}: without payloads healthy when a connection opens (and the connection
   * is closed); else {@code sendHex} is written on each check and healthy once every block of
   * {@code receiveHex} was read, in order (hex, as Envoy's {@code Payload.text}).
   */
  public record TcpProbe(String sendHex, java.util.List<String> receiveHex) implements Probe {
    public TcpProbe {
      receiveHex = java.util.List.copyOf(receiveHex);
    }

    public TcpProbe() {
      this("", java.util.List.of());
    }
  }

  /** {@code tcp_keepalive}: zero leaves the system default. */
  public record TcpKeepalive(int probes, int idleSeconds, int intervalSeconds) {}
}
