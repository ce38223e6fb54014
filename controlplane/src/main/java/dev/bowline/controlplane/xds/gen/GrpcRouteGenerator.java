package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Message;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * RDS for proxyless gRPC clients: one route configuration per target authority with a virtual host
 * {@code host:port} whose domains are the hostname and {@code hostname:port}. Without a
 * VirtualService the single route sends everything to {@code outbound|port||host}; with one, each
 * HTTP route becomes a route with its matches and weighted clusters.
 */
final class GrpcRouteGenerator implements XdsGenerator {
  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    for (String name : names.names()) {
      GrpcTarget.resolve(name, proxy, push)
          .ifPresent(t -> out.put(name, routeConfig(t, proxy, push)));
    }
    return out;
  }

  private static RouteConfiguration routeConfig(GrpcTarget t, Proxy proxy, PushContext push) {
    Set<String> domains = new LinkedHashSet<>();
    domains.add(t.service().hostname());
    domains.add(t.hostPort());
    domains.add(t.requestedName());
    VirtualHost.Builder vh = VirtualHost.newBuilder().setName(t.hostPort()).addAllDomains(domains);
    Optional<List<HttpRoute>> routes = push.httpRoutes(t.service(), t.port().port(), proxy);
    if (routes.isEmpty()) {
      Route route =
          Route.newBuilder()
              .setMatch(RouteMatch.newBuilder().setPrefix("/"))
              .setRoute(
                  RouteAction.newBuilder()
                      .setCluster(
                          ClusterName.outbound(t.port().port(), "", t.service().hostname())))
              .build();
      vh.addRoutes(
          HttpRoutes.withHashPolicy(
              route,
              List.of(new HttpRoute.Destination(t.service().hostname(), t.port().port(), "", 1)),
              t.port().port(),
              proxy,
              push));
    } else {
      for (HttpRoute r : routes.get()) {
        vh.addRoutes(
            HttpRoutes.withHashPolicy(
                route(r, t.port().port()), r.destinations(), t.port().port(), proxy, push));
      }
    }
    return RouteConfiguration.newBuilder().setName(t.requestedName()).addVirtualHosts(vh).build();
  }

  /**
   * A proxyless client's route: as a sidecar's, but the VirtualService timeout goes into {@code
   * max_stream_duration}, which grpc-java enforces (it reads neither {@code timeout} nor {@code
   * max_grpc_timeout}), as istiod's {@code setTimeout} does for proxyless nodes.
   */
  @SuppressWarnings("deprecation") // clearMaxGrpcTimeout: what the sidecar route carries
  static Route route(HttpRoute r, int defaultPort) {
    Route route = HttpRoutes.route(r, defaultPort);
    if (!route.hasRoute() || !route.getRoute().hasTimeout()) {
      return route;
    }
    var action =
        route.getRoute().toBuilder()
            .clearMaxGrpcTimeout()
            .setMaxStreamDuration(
                io.envoyproxy.envoy.config.route.v3.RouteAction.MaxStreamDuration.newBuilder()
                    .setMaxStreamDuration(route.getRoute().getTimeout()));
    return route.toBuilder().setRoute(action).build();
  }
}
