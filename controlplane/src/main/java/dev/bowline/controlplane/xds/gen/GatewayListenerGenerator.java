package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayTls;
import dev.bowline.controlplane.model.GatewayVirtualService;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Protocol;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * LDS for gateways ({@code router~} nodes), as istiod: one listener per (address, port) of the
 * servers of the Gateways that select the proxy ({@link GatewayPorts}). An HTTP port gets an HTTP
 * connection manager taking RDS {@code http.<port>} (with the mesh-wide access logs); a TCP port a
 * TCP proxy to the destinations of the first bound VirtualService whose hosts match the server's
 * and that has a TCP route for it (no such VirtualService: no listener, as istiod).
 */
final class GatewayListenerGenerator implements XdsGenerator {
  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> all = new TreeMap<>();
    // Istio's gateways run metadata exchange and client-side stats as sidecars' outbound side do,
    // so the mesh's metrics (and the dashboard's graph) name the gateway as the caller; mesh-wide
    // access logs (MeshConfig accessLogFile, or a Telemetry resource) too.
    dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry telemetry =
        dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.of(proxy, push);
    // Then RequestAuthentication (jwt_authn + istio_authn) and the AuthorizationPolicies selecting
    // the gateway's workload (by its labels), as on sidecars.
    var rbac =
        dev.bowline.controlplane.xds.gen.authz.AuthzFilters.build(
            push.authorizationPolicies(proxy), push.trustDomains());
    // CUSTOM (ext_authz) first, before request authentication, as istiod puts it
    var custom = dev.bowline.controlplane.xds.gen.authz.CustomAuthz.of(proxy, push);
    var authz =
        new dev.bowline.controlplane.xds.gen.authz.AuthzFilters(
            rbac.http(),
            java.util.stream.Stream.concat(custom.tcp().stream(), rbac.tcp().stream()).toList());
    var httpFilters = new java.util.ArrayList<>(telemetry.outboundFilters());
    httpFilters.addAll(custom.http());
    httpFilters.addAll(RequestAuthn.filters(proxy, push));
    httpFilters.addAll(authz.http());
    var tracing =
        dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.gatewayTracing(proxy, push);
    for (GatewayPorts.ListenerPort lp : GatewayPorts.of(proxy, push)) {
      if (lp.kind() == GatewayPorts.Kind.TLS) {
        List<FilterChain> chains =
            tlsChains(
                lp,
                proxy,
                push,
                route ->
                    Filters.gatewayHcm(
                        "outbound_" + lp.listenerName(),
                        route,
                        httpFilters,
                        telemetry.outboundLogs(),
                        tracing,
                        push.mesh()));
        if (!chains.isEmpty()) {
          all.put(
              lp.listenerName(),
              Listener.newBuilder()
                  .setName(lp.listenerName())
                  .setAddress(ClusterGenerator.socket(lp.address(), lp.port()))
                  .setTrafficDirection(TrafficDirection.OUTBOUND)
                  .addListenerFilters(Security.tlsInspector())
                  .addAllFilterChains(chains)
                  .build());
        }
        continue;
      }
      Filter filter;
      if (lp.http()) {
        filter =
            Filters.gatewayHcm(
                "outbound_" + lp.listenerName(),
                lp.routeName(),
                httpFilters,
                telemetry.outboundLogs(),
                tracing,
                push.mesh());
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
                  FilterChain.newBuilder()
                      .setName(lp.listenerName())
                      .addAllFilters(lp.http() ? List.of() : authz.tcp())
                      .addFilters(filter))
              .build());
    }
    SortedMap<String, Message> out = names.select(all);
    // istiod's access logs beside the connection managers': TCP proxies and the listeners' own
    telemetry.addAccessLogs(out, push.mesh());
    return out;
  }

  /**
   * The filter chains of a TLS listener, istiod's way: a server that terminates TLS (SIMPLE,
   * MUTUAL, ISTIO_MUTUAL, OPTIONAL_MUTUAL) gets one chain matching its hosts as {@code
   * server_names} ({@code *} matches every SNI) with its {@code DownstreamTlsContext}, then an HTTP
   * connection manager on RDS {@code https.<port>.<portName>.<gateway>.<namespace>} (HTTPS) or a
   * TCP proxy to its VirtualService's TCP route (TLS). PASSTHROUGH gets one chain per {@code tls:}
   * route of a bound VirtualService, matching the route's {@code sniHosts} (within the server's
   * hosts), with a TCP proxy to its destination: the bytes pass untouched. A chain whose match an
   * earlier chain already has is dropped (Envoy refuses duplicate matches). {@code httpManager}
   * builds the connection manager of an HTTPS server from its route name.
   */
  private static List<FilterChain> tlsChains(
      GatewayPorts.ListenerPort lp,
      Proxy proxy,
      PushContext push,
      java.util.function.Function<String, Filter> httpManager) {
    List<FilterChain> chains = new ArrayList<>();
    Set<List<String>> seen = new HashSet<>();
    for (GatewayServer s : lp.servers()) {
      GatewayTls tls = s.tls().orElseThrow();
      switch (tls.mode()) {
        case "PASSTHROUGH" -> {
          for (GatewayVirtualService vs : push.config().gateways().virtualServices(s, proxy)) {
            List<String> vsHosts = GatewayHosts.matching(s, vs);
            if (vsHosts.isEmpty()) {
              continue;
            }
            for (GatewayVirtualService.TlsRoute r : vs.tls()) {
              if (r.destinations().isEmpty()) {
                continue;
              }
              List<String> sni = new ArrayList<>();
              for (String h : r.sniHosts().isEmpty() ? vsHosts : r.sniHosts()) {
                for (String serverHost : s.hosts()) {
                  String met =
                      GatewayHosts.intersect(serverHost.substring(serverHost.indexOf('/') + 1), h);
                  if (met != null && !sni.contains(met)) {
                    sni.add(met);
                  }
                }
              }
              if (sni.isEmpty() || !seen.add(sorted(sni))) {
                continue;
              }
              chains.add(
                  FilterChain.newBuilder()
                      .setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(sni))
                      .addFilters(tcpProxy(r.destinations(), s.port(), push))
                      .build());
            }
          }
        }
        case "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL" -> {
          List<String> names = serverNames(s);
          if (!seen.add(sorted(names))) {
            continue;
          }
          Filter filter;
          if (s.protocol() == Protocol.HTTPS) {
            // the same filters as the port's HTTP servers: telemetry, authn, RBAC, tracing, XFCC
            filter = httpManager.apply(GatewayPorts.httpsRouteName(s));
          } else {
            filter = tcpFilter(List.of(s), lp.listenerName(), proxy, push);
            if (filter == null) {
              continue;
            }
          }
          FilterChain.Builder fc = FilterChain.newBuilder();
          if (!names.isEmpty()) {
            fc.setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(names));
          }
          chains.add(
              fc.setTransportSocket(Security.socket(GatewayTlsContext.of(s, tls)))
                  .addFilters(filter)
                  .build());
        }
        default -> {} // AUTO_PASSTHROUGH: not served yet (decision 0022)
      }
    }
    return chains;
  }

  /** A server's hosts as SNI names: the host part; none when one of them is {@code *}. */
  private static List<String> serverNames(GatewayServer s) {
    List<String> out = new ArrayList<>();
    for (String h : s.hosts()) {
      String host = h.substring(h.indexOf('/') + 1);
      if (host.equals("*")) {
        return List.of();
      }
      if (!out.contains(host)) {
        out.add(host);
      }
    }
    return out;
  }

  private static List<String> sorted(List<String> names) {
    return names.stream().sorted().toList();
  }

  private static Filter tcpProxy(List<HttpRoute.Destination> ds, int serverPort, PushContext push) {
    TcpProxy.Builder tcp = TcpProxy.newBuilder();
    if (ds.size() == 1) {
      String cluster = GatewayRouteGenerator.cluster(ds.getFirst(), serverPort, push);
      tcp.setStatPrefix(cluster).setCluster(cluster);
    } else {
      TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
      for (HttpRoute.Destination d : ds) {
        wc.addClusters(
            TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                .setName(GatewayRouteGenerator.cluster(d, serverPort, push))
                .setWeight(d.weight()));
      }
      tcp.setStatPrefix("weighted").setWeightedClusters(wc);
    }
    return Filter.newBuilder()
        .setName(Filters.TCP_PROXY)
        .setTypedConfig(Any.pack(tcp.build()))
        .build();
  }

  private static @org.jspecify.annotations.Nullable Filter tcpFilter(
      GatewayPorts.ListenerPort lp, Proxy proxy, PushContext push) {
    return tcpFilter(lp.servers(), lp.listenerName(), proxy, push);
  }

  private static @org.jspecify.annotations.Nullable Filter tcpFilter(
      List<GatewayServer> servers, String statPrefix, Proxy proxy, PushContext push) {
    for (GatewayServer s : servers) {
      for (GatewayVirtualService vs : push.config().gateways().virtualServices(s, proxy)) {
        if (vs.tcp().isEmpty() || GatewayHosts.matching(s, vs).isEmpty()) {
          continue;
        }
        List<HttpRoute.Destination> ds = vs.tcp();
        TcpProxy.Builder tcp = TcpProxy.newBuilder().setStatPrefix(statPrefix);
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
