package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.L4Route;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The filter chains of a non-HTTP outbound service port, as istiod builds them from VirtualService
 * {@code tls} and {@code tcp} routes: one chain per TLS route matching its SNI names ({@code
 * server_names}, which needs the {@code tls_inspector} listener filter), then the default chain: a
 * {@code tcp_proxy} to the TCP route's destinations ({@code weighted_clusters} when there are
 * several: TCP traffic shifting), or to the service's own cluster.
 */
final class L4Routes {
  static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";

  private L4Routes() {}

  /** The chains for {@code service:port}, the default chain named {@code name}. */
  static List<FilterChain> chains(
      Service service, int port, Proxy proxy, PushContext push, String name) {
    return chains(service, port, proxy, push, name, List.of());
  }

  /** As above, with {@code before} (istiod: the client-side TCP stats) ahead of each TCP proxy. */
  static List<FilterChain> chains(
      Service service, int port, Proxy proxy, PushContext push, String name, List<Filter> before) {
    List<FilterChain> out = new ArrayList<>();
    for (L4Route tls : push.tlsRoutes(service, port, proxy)) {
      out.add(
          FilterChain.newBuilder()
              .setName(name + "_" + String.join(",", tls.sniHosts()))
              .setFilterChainMatch(
                  FilterChainMatch.newBuilder()
                      .setTransportProtocol("tls")
                      .addAllServerNames(tls.sniHosts()))
              .addAllFilters(before)
              .addFilters(tcpProxy(tls.destinations(), port))
              .build());
    }
    Optional<L4Route> tcp = push.tcpRoute(service, port, proxy);
    Filter filter =
        tcp.isPresent()
            ? tcpProxy(tcp.get().destinations(), port)
            : Filters.tcpProxy(
                ClusterName.outbound(port, "", service.hostname()),
                ClusterName.outbound(port, "", service.hostname()));
    out.add(
        FilterChain.newBuilder().setName(name).addAllFilters(before).addFilters(filter).build());
    return out;
  }

  /** Whether any of {@code chains} matches by SNI (then the listener needs the TLS inspector). */
  static boolean needsTlsInspector(List<FilterChain> chains) {
    return chains.stream().anyMatch(c -> c.getFilterChainMatch().getServerNamesCount() > 0);
  }

  static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder()
        .setName(TLS_INSPECTOR)
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance()))
        .build();
  }

  /** A tcp_proxy to one cluster, or weighted clusters for several destinations. */
  static Filter tcpProxy(List<HttpRoute.Destination> destinations, int port) {
    TcpProxy.Builder t = TcpProxy.newBuilder();
    if (destinations.size() == 1) {
      String cluster = cluster(destinations.getFirst(), port);
      t.setStatPrefix(cluster).setCluster(cluster);
    } else {
      TcpProxy.WeightedCluster.Builder w = TcpProxy.WeightedCluster.newBuilder();
      for (HttpRoute.Destination d : destinations) {
        w.addClusters(
            TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                .setName(cluster(d, port))
                .setWeight(d.weight()));
      }
      t.setStatPrefix(cluster(destinations.getFirst(), port)).setWeightedClusters(w);
    }
    return Filter.newBuilder()
        .setName(Filters.TCP_PROXY)
        .setTypedConfig(Any.pack(t.build()))
        .build();
  }

  private static String cluster(HttpRoute.Destination d, int port) {
    return ClusterName.outbound(d.port() == 0 ? port : d.port(), d.subset(), d.host());
  }
}
