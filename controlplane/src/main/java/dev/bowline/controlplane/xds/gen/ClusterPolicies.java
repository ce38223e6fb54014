package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.UInt32Value;
import com.google.protobuf.UInt64Value;
import dev.bowline.controlplane.model.TrafficPolicy;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
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
