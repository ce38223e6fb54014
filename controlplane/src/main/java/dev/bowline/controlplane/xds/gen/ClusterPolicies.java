package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.UInt32Value;
import com.google.protobuf.UInt64Value;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Protocol;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.v3.Percent;
import java.time.Duration;

/**
 * DestinationRule cluster settings in their Envoy form, as istiod emits them: consistent hash as a
 * {@code RING_HASH} or {@code MAGLEV} cluster (the key as the route's {@code hash_policy}),
 * connection pool limits as default-priority circuit breaker thresholds (unset ones at Envoy's
 * maximum, as istiod), the TCP connect timeout, and outlier detection with enforcement on exactly
 * the error kinds the rule counts.
 */
final class ClusterPolicies {
  /** istiod's minimum ring size when a ring hash sets none. */
  static final long DEFAULT_RING_SIZE = 1024;

  static final String HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  /** Envoy's "no limit": uint32 max. */
  private static final UInt32Value UNLIMITED = UInt32Value.of(-1);

  private ClusterPolicies() {}

  static void apply(Cluster.Builder c, TrafficPolicy.ClusterSettings s, boolean sidecar) {
    TrafficPolicy.ConsistentHash hash = s.consistentHash();
    if (hash != null && c.getType() == Cluster.DiscoveryType.EDS) {
      if (hash.maglev()) {
        Cluster.MaglevLbConfig.Builder m = Cluster.MaglevLbConfig.newBuilder();
        if (hash.size() > 0) {
          m.setTableSize(UInt64Value.of(hash.size()));
        }
        c.setLbPolicy(Cluster.LbPolicy.MAGLEV).setMaglevLbConfig(m);
      } else {
        c.setLbPolicy(Cluster.LbPolicy.RING_HASH)
            .setRingHashLbConfig(
                Cluster.RingHashLbConfig.newBuilder()
                    .setMinimumRingSize(
                        UInt64Value.of(hash.size() > 0 ? hash.size() : DEFAULT_RING_SIZE)));
      }
    }
    TrafficPolicy.CircuitBreakers cb = s.circuitBreakers();
    if (cb == null && sidecar && c.getType() == Cluster.DiscoveryType.EDS) {
      // istiod puts Envoy's maximum on every outbound cluster (Envoy's own defaults are 1024
      // and 3 retries)
      cb = new TrafficPolicy.CircuitBreakers(0, 0, 0, 0, 0);
    }
    if (cb != null) {
      c.setCircuitBreakers(
          CircuitBreakers.newBuilder()
              .addThresholds(
                  CircuitBreakers.Thresholds.newBuilder()
                      .setPriority(RoutingPriority.DEFAULT)
                      .setMaxConnections(limit(cb.maxConnections()))
                      .setMaxPendingRequests(limit(cb.maxPendingRequests()))
                      .setMaxRequests(limit(cb.maxRequests()))
                      .setMaxRetries(limit(cb.maxRetries()))
                      .setTrackRemaining(true)));
    }
    HttpProtocolOptions.Builder http = HttpProtocolOptions.newBuilder();
    if (cb != null && cb.maxRequestsPerConnection() > 0) {
      http.getCommonHttpProtocolOptionsBuilder()
          .setMaxRequestsPerConnection(UInt32Value.of(cb.maxRequestsPerConnection()));
    }
    applyPool(c, http, s.pool());
    if (!http.build().equals(HttpProtocolOptions.getDefaultInstance())) {
      if (!http.hasExplicitHttpConfig() && !http.hasUseDownstreamProtocolConfig()) {
        http.setExplicitHttpConfig(
            HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                .setHttpProtocolOptions(
                    io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance()));
      }
      c.putTypedExtensionProtocolOptions(HTTP_OPTIONS, com.google.protobuf.Any.pack(http.build()));
    }
    applyLocality(c, s);
    applyWarmup(c, s.warmup());
    if (s.connectTimeout() != null && sidecar) {
      c.setConnectTimeout(duration(s.connectTimeout()));
    }
    TrafficPolicy.OutlierDetection od = s.outlierDetection();
    if (od != null) {
      OutlierDetection.Builder o = OutlierDetection.newBuilder();
      if (od.consecutive5xxErrors() > 0) {
        o.setConsecutive5Xx(UInt32Value.of(od.consecutive5xxErrors()))
            .setEnforcingConsecutive5Xx(UInt32Value.of(100));
      } else {
        o.setEnforcingConsecutive5Xx(UInt32Value.of(0));
      }
      if (od.consecutiveGatewayErrors() > 0) {
        o.setConsecutiveGatewayFailure(UInt32Value.of(od.consecutiveGatewayErrors()))
            .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100));
      } else {
        o.setEnforcingConsecutiveGatewayFailure(UInt32Value.of(0));
      }
      if (od.consecutiveLocalOriginFailures() > 0) {
        o.setSplitExternalLocalOriginErrors(true)
            .setConsecutiveLocalOriginFailure(UInt32Value.of(od.consecutiveLocalOriginFailures()))
            .setEnforcingConsecutiveLocalOriginFailure(UInt32Value.of(100));
      }
      if (od.interval() != null) {
        o.setInterval(duration(od.interval()));
      }
      if (od.baseEjectionTime() != null) {
        o.setBaseEjectionTime(duration(od.baseEjectionTime()));
      }
      if (od.maxEjectionPercent() > 0) {
        o.setMaxEjectionPercent(UInt32Value.of(od.maxEjectionPercent()));
      }
      c.setOutlierDetection(o);
      if (od.minHealthPercent() > 0) {
        c.setCommonLbConfig(
            Cluster.CommonLbConfig.newBuilder()
                .setHealthyPanicThreshold(Percent.newBuilder().setValue(od.minHealthPercent())));
      }
    }
  }

  /**
   * Sets {@code common_lb_config.locality_weighted_lb_config} when the host's locality setting
   * distributes (istiod's {@code applyLocalityLoadBalancer}; weights and failover priorities are
   * set per proxy in EDS, see {@link LocalityLoadBalancing}).
   */
  static void applyLocality(Cluster.Builder c, TrafficPolicy.ClusterSettings s) {
    TrafficPolicy.LocalityLb l = s.localityLb();
    if (l != null && l.enabled() && !l.distribute().isEmpty()) {
      c.getCommonLbConfigBuilder()
          .setLocalityWeightedLbConfig(
              Cluster.CommonLbConfig.LocalityWeightedLbConfig.getDefaultInstance());
    }
  }

  /** {@code connectionPool} keepalive, idle timeout and HTTP/2 options, as istiod emits them. */
  private static void applyPool(
      Cluster.Builder c,
      HttpProtocolOptions.Builder http,
      TrafficPolicy.@org.jspecify.annotations.Nullable PoolOptions p) {
    if (p == null) {
      return;
    }
    if (p.keepalive() != null) {
      var k = io.envoyproxy.envoy.config.core.v3.TcpKeepalive.newBuilder();
      if (p.keepalive().probes() != null) {
        k.setKeepaliveProbes(UInt32Value.of(p.keepalive().probes()));
      }
      if (p.keepalive().time() != null) {
        k.setKeepaliveTime(UInt32Value.of((int) p.keepalive().time().toSeconds()));
      }
      if (p.keepalive().interval() != null) {
        k.setKeepaliveInterval(UInt32Value.of((int) p.keepalive().interval().toSeconds()));
      }
      c.getUpstreamConnectionOptionsBuilder().setTcpKeepalive(k);
    }
    if (p.idleTimeout() != null) {
      http.getCommonHttpProtocolOptionsBuilder().setIdleTimeout(duration(p.idleTimeout()));
    }
    if (p.useClientProtocol()) {
      http.setUseDownstreamProtocolConfig(
          HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
              .setHttpProtocolOptions(
                  io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance())
              .setHttp2ProtocolOptions(h2(p)));
    }
  }

  /**
   * The upstream HTTP protocol of a cluster for a service port, as istiod's {@code
   * setUpstreamProtocol} and {@code shouldH2Upgrade}: HTTP/2 for HTTP2/gRPC ports; for an outbound
   * cluster also when the DestinationRule says {@code h2UpgradePolicy: UPGRADE} (any port), or it
   * says DEFAULT (or nothing), the port is HTTP and MeshConfig {@code h2UpgradePolicy} is UPGRADE;
   * else, on a sidecar, a port with an undeclared (sniffed) protocol uses the downstream's
   * protocol. A DestinationRule's {@code useClientProtocol} (already applied) is left alone.
   *
   * @param meshPolicy MeshConfig {@code h2UpgradePolicy} (null: Istio's default DO_NOT_UPGRADE)
   */
  static void applyUpstreamProtocol(
      Cluster.Builder c,
      Protocol protocol,
      boolean outbound,
      boolean sidecar,
      TrafficPolicy.@org.jspecify.annotations.Nullable PoolOptions pool,
      @org.jspecify.annotations.Nullable String meshPolicy) {
    if (pool != null && pool.useClientProtocol()) {
      return;
    }
    TrafficPolicy.H2Upgrade override =
        pool == null ? TrafficPolicy.H2Upgrade.DEFAULT : pool.h2Upgrade();
    boolean upgrade =
        outbound
            && (override == TrafficPolicy.H2Upgrade.UPGRADE
                || (override == TrafficPolicy.H2Upgrade.DEFAULT
                    && protocol.isHttp()
                    && "UPGRADE".equals(meshPolicy)));
    boolean http2 =
        protocol == Protocol.HTTP2 || protocol == Protocol.GRPC || protocol == Protocol.GRPC_WEB;
    HttpProtocolOptions.Builder http;
    try {
      http =
          c.getTypedExtensionProtocolOptionsMap().containsKey(HTTP_OPTIONS)
              ? c
                  .getTypedExtensionProtocolOptionsMap()
                  .get(HTTP_OPTIONS)
                  .unpack(HttpProtocolOptions.class)
                  .toBuilder()
              : HttpProtocolOptions.newBuilder();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("cluster " + c.getName() + ": " + e.getMessage(), e);
    }
    if (upgrade || http2) {
      var h2 =
          pool == null
              ? io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance()
              : h2(pool);
      http.setExplicitHttpConfig(
          HttpProtocolOptions.ExplicitHttpConfig.newBuilder().setHttp2ProtocolOptions(h2));
    } else if (sidecar && protocol == Protocol.UNSUPPORTED) {
      http.setUseDownstreamProtocolConfig(
          HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
              .setHttpProtocolOptions(
                  io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance())
              .setHttp2ProtocolOptions(
                  io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance()));
    } else {
      return;
    }
    c.putTypedExtensionProtocolOptions(HTTP_OPTIONS, com.google.protobuf.Any.pack(http.build()));
  }

  private static io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions h2(
      TrafficPolicy.PoolOptions p) {
    var h2 = io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.newBuilder();
    if (p.maxConcurrentStreams() > 0) {
      h2.setMaxConcurrentStreams(UInt32Value.of(p.maxConcurrentStreams()));
    }
    return h2.build();
  }

  /** {@code warmupDurationSecs}/{@code warmup}: slow start on round robin or least request. */
  private static void applyWarmup(
      Cluster.Builder c, TrafficPolicy.@org.jspecify.annotations.Nullable Warmup w) {
    if (w == null) {
      return;
    }
    Cluster.SlowStartConfig.Builder s =
        Cluster.SlowStartConfig.newBuilder().setSlowStartWindow(duration(w.duration()));
    if (w.aggression() != null) {
      s.setAggression(
          io.envoyproxy.envoy.config.core.v3.RuntimeDouble.newBuilder()
              .setDefaultValue(w.aggression())
              .setRuntimeKey("global"));
    }
    if (w.minimumPercent() != null) {
      s.setMinWeightPercent(Percent.newBuilder().setValue(w.minimumPercent()));
    }
    switch (c.getLbPolicy()) {
      case ROUND_ROBIN -> c.getRoundRobinLbConfigBuilder().setSlowStartConfig(s);
      case LEAST_REQUEST -> c.getLeastRequestLbConfigBuilder().setSlowStartConfig(s);
      default -> {} // istiod: slow start only applies to these two
    }
  }

  /** The route's hash policy for a consistent hash. */
  static RouteAction.HashPolicy hashPolicy(TrafficPolicy.ConsistentHash hash) {
    RouteAction.HashPolicy.Builder h = RouteAction.HashPolicy.newBuilder();
    switch (hash.key()) {
      case HEADER ->
          h.setHeader(RouteAction.HashPolicy.Header.newBuilder().setHeaderName(hash.name()));
      case COOKIE -> {
        RouteAction.HashPolicy.Cookie.Builder cookie =
            RouteAction.HashPolicy.Cookie.newBuilder()
                .setName(hash.name())
                .setPath(hash.cookiePath());
        if (hash.cookieTtl() != null) {
          cookie.setTtl(duration(hash.cookieTtl()));
        }
        h.setCookie(cookie);
      }
      case SOURCE_IP ->
          h.setConnectionProperties(
              RouteAction.HashPolicy.ConnectionProperties.newBuilder().setSourceIp(true));
      case QUERY_PARAMETER ->
          h.setQueryParameter(
              RouteAction.HashPolicy.QueryParameter.newBuilder().setName(hash.name()));
    }
    return h.build();
  }

  private static UInt32Value limit(int v) {
    return v > 0 ? UInt32Value.of(v) : UNLIMITED;
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }
}
