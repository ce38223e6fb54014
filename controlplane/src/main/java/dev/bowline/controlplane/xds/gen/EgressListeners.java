package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Listeners for a Sidecar's egress listeners that bind an address ({@code captureMode: NONE} or a
 * {@code bind}), other than the HTTP proxy one: {@code BIND_PORT} bound on that address (the
 * proxy's own address if the Sidecar gives none). An HTTP port takes RDS {@code "PORT"}; a TCP or
 * TLS port carries the chains of the first of its hosts' services on that port ({@link L4Routes}:
 * VirtualService tcp/tls routes apply); a port without a declared protocol sniffs ({@link
 * ProtocolSniffing}): those chains plus an HTTP chain taking RDS {@code "host:port"} of that
 * service. A port none of its hosts serves gets no listener.
 */
final class EgressListeners {
  private EgressListeners() {}

  static Map<String, Listener> bound(Proxy proxy, PushContext push) {
    return bound(proxy, push, List.of());
  }

  /** As {@link #bound(Proxy, PushContext)}, with {@code tcpStats} before each TCP proxy. */
  static Map<String, Listener> bound(
      Proxy proxy, PushContext push, List<io.envoyproxy.envoy.config.listener.v3.Filter> tcpStats) {
    Map<String, Listener> out = new LinkedHashMap<>();
    for (SidecarScope.EgressListener e : push.scope(proxy).egressListeners()) {
      if (e.isHttpProxy() || (e.bind().isEmpty() && !e.captureMode().equals("NONE"))) {
        continue;
      }
      String bind = e.bind().isEmpty() ? proxy.ipAddress() : e.bind();
      String name = bind + "_" + e.port();
      Protocol protocol = Protocol.parse(e.protocol());
      List<FilterChain> chains;
      if (protocol.isHttp()) {
        chains =
            List.of(
                FilterChain.newBuilder()
                    .setName(name)
                    .addFilters(
                        Filters.hcmRds(
                            "outbound_" + name,
                            Integer.toString(e.port()),
                            List.of(),
                            List.of(),
                            null,
                            push.mesh()))
                    .build());
      } else {
        Service target = null;
        for (Service s : push.visibleServices(proxy)) {
          if (s.port(e.port()).isPresent()
              && SidecarScope.matchesAny(e.hosts(), s, proxy.namespace())) {
            target = s;
            break;
          }
        }
        if (target == null) {
          continue;
        }
        chains = L4Routes.chains(target, e.port(), proxy, push, name, tcpStats);
        if (protocol == Protocol.UNSUPPORTED) {
          // No declared protocol: sniff. The HTTP chain takes istiod's per-service route
          // configuration "host:port" (that service's virtual host for any authority).
          Listener.Builder l =
              Listener.newBuilder()
                  .setName(name)
                  .setAddress(ClusterGenerator.socket(bind, e.port()))
                  .setTrafficDirection(TrafficDirection.OUTBOUND);
          FilterChain http =
              FilterChain.newBuilder()
                  .setName(name)
                  .addFilters(
                      Filters.hcmRds(
                          "outbound_" + name,
                          SidecarRouteGenerator.sniffedRouteName(target.hostname(), e.port())))
                  .build();
          ProtocolSniffing.outbound(l, http, chains, push);
          out.put(name, l.build());
          continue;
        }
      }
      Listener.Builder l =
          Listener.newBuilder()
              .setName(name)
              .setAddress(ClusterGenerator.socket(bind, e.port()))
              .setTrafficDirection(TrafficDirection.OUTBOUND)
              .addAllFilterChains(chains);
      if (L4Routes.needsTlsInspector(chains)) {
        l.addListenerFilters(L4Routes.tlsInspector());
      }
      out.put(name, l.build());
    }
    return out;
  }
}
