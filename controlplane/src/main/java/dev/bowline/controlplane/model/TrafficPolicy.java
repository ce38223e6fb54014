package dev.bowline.controlplane.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The resolved DestinationRule traffic policy for one host, in the form generators need (merged and
 * with Istio's precedence already applied by whoever implements {@link
 * ConfigInputs.DestinationRules}).
 *
 * @param loadBalancer the simple load-balancing policy for the host
 * @param subsets named subsets: each selects endpoints by labels and becomes a cluster {@code
 *     outbound|port|subset|host}
 * @param settings consistent hash, connection pool and outlier detection of the host's clusters
 * @param ports {@code portLevelSettings} by port number
 */
public record TrafficPolicy(
    LoadBalancer loadBalancer,
    List<Subset> subsets,
    ClusterSettings settings,
    Map<Integer, PortLevel> ports) {
  /** No DestinationRule: round robin, no subsets. */
  public static final TrafficPolicy DEFAULT =
      new TrafficPolicy(LoadBalancer.ROUND_ROBIN, List.of());

  public TrafficPolicy {
    Objects.requireNonNull(loadBalancer, "loadBalancer");
    subsets = List.copyOf(subsets);
    Objects.requireNonNull(settings, "settings");
    ports = Map.copyOf(ports);
  }

  /** A policy without port-level settings. */
  public TrafficPolicy(LoadBalancer loadBalancer, List<Subset> subsets, ClusterSettings settings) {
    this(loadBalancer, subsets, settings, Map.of());
  }

  /** A policy without cluster settings. */
  public TrafficPolicy(LoadBalancer loadBalancer, List<Subset> subsets) {
    this(loadBalancer, subsets, ClusterSettings.NONE);
  }

  /** The load balancer of the host's cluster for {@code port} (port-level settings applied). */
  public LoadBalancer loadBalancer(int port) {
    return PortLevel.loadBalancer(ports.get(port), loadBalancer);
  }

  /** The cluster settings of the host's cluster for {@code port} (port-level settings applied). */
  public ClusterSettings settings(int port) {
    return PortLevel.settings(ports.get(port), settings);
  }

  /**
   * A DestinationRule {@code portLevelSettings} entry: what it sets replaces the policy it applies
   * to, part by part, as istiod.
   *
   * @param setsLoadBalancer whether it sets {@code loadBalancer} (then {@code loadBalancer} and the
   *     consistent hash of {@code settings} replace the policy's)
   * @param loadBalancer its simple load balancer
   * @param settings its settings; null parts are unset
   */
  public record PortLevel(
      boolean setsLoadBalancer, LoadBalancer loadBalancer, ClusterSettings settings) {
    public PortLevel {
      Objects.requireNonNull(loadBalancer, "loadBalancer");
      Objects.requireNonNull(settings, "settings");
    }

    static LoadBalancer loadBalancer(@Nullable PortLevel p, LoadBalancer base) {
      return p != null && p.setsLoadBalancer() ? p.loadBalancer() : base;
    }

    static ClusterSettings settings(@Nullable PortLevel p, ClusterSettings base) {
      if (p == null) {
        return base;
      }
      ClusterSettings merged = p.settings().over(base);
      return p.setsLoadBalancer()
          ? new ClusterSettings(
              p.settings().consistentHash(),
              merged.circuitBreakers(),
              merged.connectTimeout(),
              merged.outlierDetection(),
              merged.tls(),
              p.settings().localityLb(),
              p.settings().warmup(),
              merged.pool())
          : merged;
    }
  }

  /** Istio's {@code loadBalancer.simple} values that map to an Envoy LB policy. */
  public enum LoadBalancer {
    ROUND_ROBIN,
    LEAST_REQUEST,
    RANDOM,
    PASSTHROUGH
  }

  /**
   * A DestinationRule subset, its policy already merged over the rule's; {@code ports} are the
   * subset's port-level settings, or the rule's when it has none (istiod's merge).
   */
  public record Subset(
      String name,
      Map<String, String> labels,
      LoadBalancer loadBalancer,
      ClusterSettings settings,
      Map<Integer, PortLevel> ports) {
    public Subset {
      Objects.requireNonNull(name, "name");
      labels = Map.copyOf(labels);
      Objects.requireNonNull(loadBalancer, "loadBalancer");
      Objects.requireNonNull(settings, "settings");
      ports = Map.copyOf(ports);
    }

    /** A subset without port-level settings. */
    public Subset(
        String name,
        Map<String, String> labels,
        LoadBalancer loadBalancer,
        ClusterSettings settings) {
      this(name, labels, loadBalancer, settings, Map.of());
    }

    /** A subset without cluster settings. */
    public Subset(String name, Map<String, String> labels, LoadBalancer loadBalancer) {
      this(name, labels, loadBalancer, ClusterSettings.NONE);
    }

    /** The subset cluster's load balancer for {@code port}. */
    public LoadBalancer loadBalancer(int port) {
      return PortLevel.loadBalancer(ports.get(port), loadBalancer);
    }

    /** The subset cluster's settings for {@code port}. */
    public ClusterSettings settings(int port) {
      return PortLevel.settings(ports.get(port), settings);
    }
  }

  /**
   * What else a DestinationRule sets on a cluster; null parts are unset.
   *
   * @param consistentHash {@code loadBalancer.consistentHash}: ring hash or maglev (the hash key
   *     goes on the routes)
   * @param circuitBreakers {@code connectionPool} limits
   * @param connectTimeout {@code connectionPool.tcp.connectTimeout}
   * @param outlierDetection {@code outlierDetection}
   * @param localityLb {@code loadBalancer.localityLbSetting}
   * @param warmup {@code loadBalancer.warmupDurationSecs} or {@code warmup}
   * @param pool the rest of {@code connectionPool}: keepalive, idle timeout, HTTP/2 options
   */
  public record ClusterSettings(
      @Nullable ConsistentHash consistentHash,
      @Nullable CircuitBreakers circuitBreakers,
      @Nullable Duration connectTimeout,
      @Nullable OutlierDetection outlierDetection,
      @Nullable ClientTls tls,
      @Nullable LocalityLb localityLb,
      @Nullable Warmup warmup,
      @Nullable PoolOptions pool) {
    /** Nothing set. */
    public static final ClusterSettings NONE =
        new ClusterSettings(null, null, null, null, null, null, null, null);

    /** Settings with TLS but without locality, warm-up and pool options. */
    public ClusterSettings(
        @Nullable ConsistentHash consistentHash,
        @Nullable CircuitBreakers circuitBreakers,
        @Nullable Duration connectTimeout,
        @Nullable OutlierDetection outlierDetection,
        @Nullable ClientTls tls) {
      this(
          consistentHash, circuitBreakers, connectTimeout, outlierDetection, tls, null, null, null);
    }

    /** Settings without TLS, locality, warm-up and pool options. */
    public ClusterSettings(
        @Nullable ConsistentHash consistentHash,
        @Nullable CircuitBreakers circuitBreakers,
        @Nullable Duration connectTimeout,
        @Nullable OutlierDetection outlierDetection) {
      this(
          consistentHash,
          circuitBreakers,
          connectTimeout,
          outlierDetection,
          null,
          null,
          null,
          null);
    }

    /** Istio's subset merge: each part the subset sets replaces the rule's. */
    public ClusterSettings over(ClusterSettings parent) {
      return new ClusterSettings(
          consistentHash != null ? consistentHash : parent.consistentHash,
          circuitBreakers != null ? circuitBreakers : parent.circuitBreakers,
          connectTimeout != null ? connectTimeout : parent.connectTimeout,
          outlierDetection != null ? outlierDetection : parent.outlierDetection,
          tls != null ? tls : parent.tls,
          localityLb != null ? localityLb : parent.localityLb,
          warmup != null ? warmup : parent.warmup,
          pool != null ? pool : parent.pool);
    }
  }

  /**
   * {@code localityLbSetting}: one of distribute, failover (with failoverPriority) applies, and
   * failover only with outlier detection (istiod's rule).
   *
   * @param enabled false turns locality load balancing off for the host
   * @param distribute {@code from} locality pattern to weights by {@code to} locality pattern
   * @param failover region {@code from} to region {@code to}
   * @param failoverPriority label names, most significant first
   */
  public record LocalityLb(
      boolean enabled,
      List<Distribute> distribute,
      List<Failover> failover,
      List<String> failoverPriority) {
    public LocalityLb {
      distribute = List.copyOf(distribute);
      failover = List.copyOf(failover);
      failoverPriority = List.copyOf(failoverPriority);
    }

    /** istiod's default (mesh {@code localityLbSetting.enabled: true}): failover by proximity. */
    public static final LocalityLb DEFAULT = new LocalityLb(true, List.of(), List.of(), List.of());

    /** Istio's {@code localityLbSetting} (a DestinationRule's or MeshConfig's); null if absent. */
    public static @Nullable LocalityLb of(
        dev.bowline.api.model.@Nullable LocalityLoadBalancerSetting l) {
      if (l == null) {
        return null;
      }
      return new LocalityLb(
          l.enabled() == null || l.enabled(),
          l.distribute().stream()
              .map(d -> new Distribute(d.from() == null ? "" : d.from(), d.to()))
              .toList(),
          l.failover().stream()
              .map(
                  f -> new Failover(f.from() == null ? "" : f.from(), f.to() == null ? "" : f.to()))
              .toList(),
          l.failoverPriority());
    }

    /** One {@code distribute} entry; {@code to} keeps the rule's order. */
    public record Distribute(String from, Map<String, Integer> to) {
      public Distribute {
        to = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(to));
      }
    }

    /** One {@code failover} entry. */
    public record Failover(String from, String to) {}
  }

  /** Slow start: {@code duration}, {@code aggression} (1.0), {@code minimumPercent} (10). */
  public record Warmup(
      Duration duration, @Nullable Double aggression, @Nullable Double minimumPercent) {}

  /**
   * {@code connectionPool} options beyond the circuit breaker limits; null or 0 parts are unset.
   *
   * @param keepalive {@code tcp.tcpKeepalive}
   * @param idleTimeout {@code http.idleTimeout}
   * @param h2Upgrade {@code http.h2UpgradePolicy}
   * @param useClientProtocol {@code http.useClientProtocol}
   * @param maxConcurrentStreams {@code http.maxConcurrentStreams}
   */
  public record PoolOptions(
      @Nullable Keepalive keepalive,
      @Nullable Duration idleTimeout,
      H2Upgrade h2Upgrade,
      boolean useClientProtocol,
      int maxConcurrentStreams) {}

  /**
   * A DestinationRule's {@code http.h2UpgradePolicy}: DEFAULT follows MeshConfig {@code
   * h2UpgradePolicy}.
   */
  public enum H2Upgrade {
    DEFAULT,
    UPGRADE,
    DO_NOT_UPGRADE
  }

  /** {@code tcpKeepalive}: probes, time and interval (null for the system's). */
  public record Keepalive(
      @Nullable Integer probes, @Nullable Duration time, @Nullable Duration interval) {}

  /** What a consistent hash hashes. */
  public enum HashKey {
    HEADER,
    COOKIE,
    SOURCE_IP,
    QUERY_PARAMETER
  }

  /**
   * {@code consistentHash}.
   *
   * @param key what is hashed
   * @param name the header, cookie or query parameter name ({@code ""} for the source IP)
   * @param cookieTtl the TTL of a generated cookie, or null
   * @param cookiePath the cookie's path ({@code ""} for none)
   * @param maglev maglev instead of ring hash
   * @param size the ring's minimum size or maglev's table size; 0 for Envoy's default
   */
  public record ConsistentHash(
      HashKey key,
      String name,
      @Nullable Duration cookieTtl,
      String cookiePath,
      boolean maglev,
      long size) {}

  /** {@code connectionPool} limits; 0 means unset (Istio then uses Envoy's maximum). */
  public record CircuitBreakers(
      int maxConnections,
      int maxPendingRequests,
      int maxRequests,
      int maxRetries,
      int maxRequestsPerConnection) {}

  /** {@code outlierDetection}; 0 or null means unset. */
  public record OutlierDetection(
      int consecutive5xxErrors,
      int consecutiveGatewayErrors,
      int consecutiveLocalOriginFailures,
      @Nullable Duration interval,
      @Nullable Duration baseEjectionTime,
      int maxEjectionPercent,
      int minHealthPercent) {}
}
