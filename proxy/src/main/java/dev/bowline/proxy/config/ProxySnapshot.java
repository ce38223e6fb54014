package dev.bowline.proxy.config;

import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Everything the data path reads, as of one moment: listeners, route tables, clusters and their
 * endpoints. Immutable; a new one replaces the old by swapping one reference, so a request that
 * took this snapshot finishes on it.
 *
 * @param version increases with each publish, for logs and the admin page
 * @param endpoints EDS endpoints by service name
 * @param resolved endpoints of DNS clusters by cluster name
 */
public record ProxySnapshot(
    long version,
    Map<String, ListenerConfig> listeners,
    Map<String, RouteTable> routes,
    Map<String, ClusterConfig> clusters,
    Map<String, Endpoints> endpoints,
    Map<String, Endpoints> resolved) {
  public ProxySnapshot {
    resolved = Map.copyOf(resolved);
    listeners = Map.copyOf(listeners);
    routes = Map.copyOf(routes);
    clusters = Map.copyOf(clusters);
    endpoints = Map.copyOf(endpoints);
  }

  public static ProxySnapshot empty() {
    return new ProxySnapshot(0, Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
  }

  /** The endpoints serving {@code cluster}, empty if the cluster or its endpoints are unknown. */
  public Optional<Endpoints> endpointsOf(ClusterConfig cluster) {
    return Optional.ofNullable(endpointsOrNull(cluster));
  }

  /** As {@link #endpointsOf}, null for none (the request path: no {@code Optional} per request). */
  public @Nullable Endpoints endpointsOrNull(ClusterConfig cluster) {
    return switch (cluster.discovery()) {
      case ClusterConfig.Static s -> s.endpoints();
      case ClusterConfig.Eds e -> endpoints.get(e.serviceName());
      case ClusterConfig.Dns d -> resolved.get(cluster.name());
      case ClusterConfig.OriginalDst o -> null; // per connection: HttpStream, TcpProxy
    };
  }
}
