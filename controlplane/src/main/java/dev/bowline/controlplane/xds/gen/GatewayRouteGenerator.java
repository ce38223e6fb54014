package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayVirtualService;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * RDS for gateways, as istiod: one route configuration {@code http.<port>} per HTTP listener port
 * ({@link GatewayPorts}), with one virtual host per host that a server on that port and a
 * VirtualService bound to its Gateway have in common ({@link GatewayHosts}), named {@code
 * host:serverPort}, domains the host and {@code host:serverPort} (only {@code *} for {@code *}).
 * Two VirtualServices meeting in one host share its virtual host, the first one's routes first.
 * Routes are translated exactly as for sidecars ({@link HttpRoutes}: matches, weights, policies,
 * mesh default retries, no timeout unless set, DestinationRule hash policy). A destination without
 * a port takes its service's only port (else the server's). A port with no virtual host gets
 * istiod's {@code blackhole:<port>} answering 404.
 */
final class GatewayRouteGenerator implements XdsGenerator {
  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    for (GatewayPorts.ListenerPort lp : GatewayPorts.of(proxy, push)) {
      if (lp.http() && (names.wildcard() || names.names().contains(lp.routeName()))) {
        out.put(lp.routeName(), routeConfig(lp.routeName(), lp.servers(), proxy, push));
      }
      if (lp.kind() == GatewayPorts.Kind.TLS) {
        // one route configuration per HTTPS server that terminates TLS, named as istiod names it
        for (GatewayServer s : lp.servers()) {
          String name = GatewayPorts.httpsRouteName(s);
          if (s.protocol() == dev.bowline.controlplane.registry.Protocol.HTTPS
              && !s.tlsMode().equals("PASSTHROUGH")
              && !s.tlsMode().equals("AUTO_PASSTHROUGH")
              && !out.containsKey(name)
              && (names.wildcard() || names.names().contains(name))) {
            out.put(name, routeConfig(name, List.of(s), proxy, push));
          }
        }
      }
    }
    return out;
  }

  /**
   * A server with {@code tls.httpsRedirect}: every request is answered with a 301 to the same URL
   * over {@code https} (what Envoy's {@code require_tls: ALL} answers on this plaintext listener).
   */
  private static final Route HTTPS_REDIRECT =
      Route.newBuilder()
          .setName("https-redirect")
          .setMatch(RouteMatch.newBuilder().setPrefix("/"))
          .setRedirect(
              io.envoyproxy.envoy.config.route.v3.RedirectAction.newBuilder()
                  .setHttpsRedirect(true)
                  .setResponseCode(
                      io.envoyproxy.envoy.config.route.v3.RedirectAction.RedirectResponseCode
                          .MOVED_PERMANENTLY))
          .build();

  private static RouteConfiguration routeConfig(
      String routeName, List<GatewayServer> servers, Proxy proxy, PushContext push) {
    Map<String, VirtualHost.Builder> hosts = new LinkedHashMap<>();
    java.util.Set<String> redirected = new java.util.HashSet<>();
    for (GatewayServer server : servers) {
      for (GatewayVirtualService vs : push.config().gateways().virtualServices(server, proxy)) {
        if (vs.http().isEmpty()) {
          continue; // only TLS or TCP routes: nothing for an HTTP virtual host (istiod)
        }
        List<Route> routes = null;
        for (String host : GatewayHosts.matching(server, vs)) {
          String name = host + ":" + server.port();
          VirtualHost.Builder vh = hosts.get(name);
          if (vh == null) {
            vh =
                VirtualHost.newBuilder()
                    .setName(name)
                    .addAllDomains(host.equals("*") ? List.of("*") : List.of(host, name))
                    .setIncludeRequestAttemptCount(true);
            hosts.put(name, vh);
          }
          if (server.httpsRedirect()) {
            if (redirected.add(name)) {
              vh.clearRoutes().addRoutes(HTTPS_REDIRECT);
            }
            continue;
          }
          if (redirected.contains(name)) {
            continue;
          }
          if (routes == null) {
            routes = routes(vs, server.port(), proxy, push);
          }
          vh.addAllRoutes(routes);
        }
      }
    }
    RouteConfiguration.Builder rc =
        RouteConfiguration.newBuilder().setName(routeName).setValidateClusters(BoolValue.of(false));
    hosts.values().forEach(rc::addVirtualHosts);
    if (rc.getVirtualHostsCount() == 0) {
      rc.addVirtualHosts(
          VirtualHost.newBuilder()
              .setName("blackhole:" + servers.getFirst().port())
              .addDomains("*")
              .addRoutes(
                  Route.newBuilder()
                      .setName("default")
                      .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                      .setDirectResponse(DirectResponseAction.newBuilder().setStatus(404))));
    }
    return rc.build();
  }

  private static List<Route> routes(
      GatewayVirtualService vs, int serverPort, Proxy proxy, PushContext push) {
    List<Route> out = new ArrayList<>();
    for (HttpRoute r : vs.http()) {
      HttpRoute resolved = withPorts(r, serverPort, push);
      Route route =
          HttpRoutes.withMeshDefaults(HttpRoutes.route(resolved, serverPort), resolved, push);
      out.add(HttpRoutes.withHashPolicy(route, resolved.destinations(), serverPort, proxy, push));
    }
    return out;
  }

  /**
   * {@code r} with every destination's port set (its service's only port, else the server's). A
   * mirror without a port takes the server's.
   */
  private static HttpRoute withPorts(HttpRoute r, int serverPort, PushContext push) {
    List<HttpRoute.Destination> ds = new ArrayList<>();
    for (HttpRoute.Destination d : r.destinations()) {
      ds.add(
          new HttpRoute.Destination(d.host(), port(d, serverPort, push), d.subset(), d.weight()));
    }
    return new HttpRoute(
        r.name(), r.path(), r.headers(), r.queryParams(), r.ignoreUriCase(), ds, r.policy());
  }

  private static int port(HttpRoute.Destination d, int serverPort, PushContext push) {
    if (d.port() != 0) {
      return d.port();
    }
    List<Integer> ports =
        push.registry().service(d.host()).map(Service::ports).orElse(List.of()).stream()
            .map(p -> p.port())
            .toList();
    return ports.size() == 1 ? ports.getFirst() : serverPort;
  }

  /** The outbound cluster of {@code d}, its port resolved as for routes. */
  static String cluster(HttpRoute.Destination d, int serverPort, PushContext push) {
    return ClusterName.outbound(port(d, serverPort, push), d.subset(), d.host());
  }
}
