package dev.bowline.api.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io DestinationRule: policies for traffic to a host, and its subsets. */
public record DestinationRule(
    String host,
    @Nullable TrafficPolicy trafficPolicy,
    List<Subset> subsets,
    List<String> exportTo,
    @Nullable LabelSelector workloadSelector)
    implements Spec {
  public DestinationRule {
    host = host == null ? "" : host;
    subsets = Freeze.list(subsets);
    exportTo = Freeze.list(exportTo);
  }

  /** Load balancing, connection pool, outlier detection and TLS for a destination. */
  public record TrafficPolicy(
      @Nullable LoadBalancerSettings loadBalancer,
      @Nullable ConnectionPoolSettings connectionPool,
      @Nullable OutlierDetection outlierDetection,
      @Nullable ClientTLSSettings tls,
      List<PortTrafficPolicy> portLevelSettings,
      @Nullable TunnelSettings tunnel,
      @Nullable ProxyProtocol proxyProtocol,
      @Nullable RetryBudget retryBudget) {
    public TrafficPolicy {
      portLevelSettings = Freeze.list(portLevelSettings);
    }

    /** A traffic policy for one port. */
    public record PortTrafficPolicy(
        @Nullable PortSelector port,
        @Nullable LoadBalancerSettings loadBalancer,
        @Nullable ConnectionPoolSettings connectionPool,
        @Nullable OutlierDetection outlierDetection,
        @Nullable ClientTLSSettings tls) {}

    /** Tunnel the connection through a proxy (CONNECT or POST). */
    public record TunnelSettings(
        @Nullable String protocol, @Nullable String targetHost, @Nullable Integer targetPort) {}

    /** Send the PROXY protocol header upstream. */
    public record ProxyProtocol(@Nullable Version version) {

      /** PROXY protocol version. */
      public enum Version {
        V1,
        V2
      }
    }

    /** Limits retries to a share of active requests. */
    public record RetryBudget(@Nullable Double percent, @Nullable Integer minRetryConcurrency) {}
  }

  /** A named group of a service's endpoints, selected by labels. */
  public record Subset(
      String name, Map<String, String> labels, @Nullable TrafficPolicy trafficPolicy) {
    public Subset {
      name = name == null ? "" : name;
      labels = Freeze.map(labels);
    }
  }

  /**
   * Load balancing: {@code simple} or {@code consistentHash} (see {@link #policy()}), plus locality
   * settings and warm-up.
   */
  public record LoadBalancerSettings(
      @Nullable SimpleLB simple,
      @Nullable ConsistentHashLB consistentHash,
      @Nullable LocalityLoadBalancerSetting localityLbSetting,
      @Nullable Duration warmupDurationSecs,
      @Nullable WarmupConfiguration warmup) {
    public LoadBalancerSettings {
      Freeze.atMostOne("simple, consistentHash", simple, consistentHash);
    }

    /** The policy that is set, or {@code null} (Istio's default, least request). */
    public @Nullable Policy policy() {
      if (simple != null) {
        return new Simple(simple);
      }
      return consistentHash == null ? null : consistentHash;
    }

    /** The load balancing algorithm. */
    public sealed interface Policy permits Simple, ConsistentHashLB {}

    /** A simple algorithm. */
    public record Simple(SimpleLB algorithm) implements Policy {}

    /** Simple algorithms. */
    public enum SimpleLB {
      UNSPECIFIED,
      LEAST_CONN,
      RANDOM,
      PASSTHROUGH,
      ROUND_ROBIN,
      LEAST_REQUEST
    }

    /**
     * Consistent hashing: one hash key (header, cookie, source IP or query parameter) and ring hash
     * or Maglev.
     */
    public record ConsistentHashLB(
        @Nullable String httpHeaderName,
        @Nullable HTTPCookie httpCookie,
        @Nullable Boolean useSourceIp,
        @Nullable String httpQueryParameterName,
        @Nullable RingHash ringHash,
        @Nullable MagLev maglev,
        @Nullable Long minimumRingSize)
        implements Policy {
      public ConsistentHashLB {
        Freeze.atMostOne(
            "httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName",
            httpHeaderName,
            httpCookie,
            useSourceIp,
            httpQueryParameterName);
        Freeze.atMostOne("ringHash, maglev", ringHash, maglev);
      }

      /** A cookie to hash on; generated with {@code ttl} when absent. */
      public record HTTPCookie(
          @Nullable String name,
          @Nullable String path,
          @Nullable Duration ttl,
          List<Attribute> attributes) {
        public HTTPCookie {
          attributes = Freeze.list(attributes);
        }

        /** A cookie attribute. */
        public record Attribute(@Nullable String name, @Nullable String value) {}
      }

      /** Ketama ring hash. */
      public record RingHash(@Nullable Long minimumRingSize) {}

      /** Maglev with a prime table size. */
      public record MagLev(@Nullable Long tableSize) {}
    }

    /** Slow start for new endpoints. */
    public record WarmupConfiguration(
        @Nullable Duration duration,
        @Nullable Double minimumPercent,
        @Nullable Double aggression) {}
  }

  /** Ejects endpoints that keep failing. */
  public record OutlierDetection(
      @Nullable Boolean splitExternalLocalOriginErrors,
      @Nullable Integer consecutiveLocalOriginFailures,
      @Nullable Integer consecutiveGatewayErrors,
      @Nullable Integer consecutive5xxErrors,
      @Nullable Duration interval,
      @Nullable Duration baseEjectionTime,
      @Nullable Integer maxEjectionPercent,
      @Nullable Integer minHealthPercent,
      @Nullable Integer consecutiveErrors) {}
}
