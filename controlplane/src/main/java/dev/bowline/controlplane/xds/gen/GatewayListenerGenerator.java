package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayVirtualService;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * LDS for gateways ({@code router~} nodes), as istiod: one listener per (address, port) of the
 * servers of the Gateways that select the proxy ({@link GatewayPorts}). An HTTP port gets an HTTP
 * connection manager taking RDS {@code http.<port>}; a TCP port a TCP proxy to the destinations of
 * the first bound VirtualService whose hosts match the server's and that has a TCP route for it (no
 * such VirtualService: no listener, as istiod).
 */
final class GatewayListenerGenerator implements XdsGenerator {
  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> all = new TreeMap<>();
    var tracing =
        dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.gatewayTracing(proxy, push);
    for (GatewayPorts.ListenerPort lp : GatewayPorts.of(proxy, push)) {
      Filter filter;
      if (lp.http()) {
        filter =
            Filters.hcmRds(
                "outbound_" + lp.listenerName(), lp.routeName(), List.of(), List.of(), tracing);
      } else {
        filter = tcpFilter(lp, proxy, push);
        if (filter == null) {
          continue;
        }
      }
      all.put(
          lp.listenerName(),
          Listener.newBuilder()
              .setName(lp.listenerName())
              .setAddress(ClusterGenerator.socket(lp.address(), lp.port()))
              .setTrafficDirection(TrafficDirection.OUTBOUND)
              .addFilterChains(
                  FilterChain.newBuilder().setName(lp.listenerName()).addFilters(filter))
              .build());
    }
    if (names.wildcard()) {
      return all;
    }
    SortedMap<String, Message> out = new TreeMap<>();
    for (String n : names.names()) {
      Message m = all.get(n);
      if (m != null) {
        out.put(n, m);
      }
    }
    return out;
  }

  private static @org.jspecify.annotations.Nullable Filter tcpFilter(
      GatewayPorts.ListenerPort lp, Proxy proxy, PushContext push) {
    for (GatewayServer s : lp.servers()) {
      for (GatewayVirtualService vs : push.config().gateways().virtualServices(s, proxy)) {
        if (vs.tcp().isEmpty() || GatewayHosts.matching(s, vs).isEmpty()) {
          continue;
        }
        List<HttpRoute.Destination> ds = vs.tcp();
        TcpProxy.Builder tcp = TcpProxy.newBuilder().setStatPrefix(lp.listenerName());
        if (ds.size() == 1) {
          tcp.setCluster(GatewayRouteGenerator.cluster(ds.getFirst(), s.port(), push));
        } else {
          TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
          for (HttpRoute.Destination d : ds) {
            wc.addClusters(
                TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                    .setName(GatewayRouteGenerator.cluster(d, s.port(), push))
                    .setWeight(d.weight()));
          }
          tcp.setWeightedClusters(wc);
        }
        return Filter.newBuilder()
            .setName(Filters.TCP_PROXY)
            .setTypedConfig(Any.pack(tcp.build()))
            .build();
      }
    }
    return null;
  }
}
