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
 * @param bind where upstream connections bind ({@code upstream_bind_config}, else the bootstrap's
 *     {@code cluster_manager.upstream_bind_config})
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
    UpstreamBind bind) {
  public ClusterConfig {
    java.util.Objects.requireNonNull(bind, "bind");
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
   */
  public record Dns(java.util.List<HostPort> hosts, boolean logical, Duration refresh)
      implements Discovery {
    public Dns {
      hosts = java.util.List.copyOf(hosts);
    }
  }

  /**
   * {@code ORIGINAL_DST} with {@code lb_policy: CLUSTER_PROVIDED}: the upstream is the address the
   * downstream connection was originally sent to. This proxy never sees a redirected connection (no
   * iptables), so only HTTP's {@code x-envoy-original-dst-host: ip:port} can name it (with {@code
   * use_http_header}); without one it answers as Envoy does: HTTP 503 "no healthy upstream", a TCP
   * connection closed. Destinations are cached per event loop and dropped after 5 s unused.
   *
   * @param useHttpHeader {@code original_dst_lb_config.use_http_header}
   */
  public record OriginalDst(boolean useHttpHeader) implements Discovery {}

  /** A DNS name and port with a load-balancing weight. */
  public record HostPort(String host, int port, int weight) {}

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
