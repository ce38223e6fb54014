package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * RDS for sidecars, as istiod: one route configuration per outbound HTTP port, named by the port
 * ({@code "8080"}), with a virtual host {@code host:port} per visible service on that port whose
 * domains are the hostname and the short forms a client in the proxy's namespace may use, each with
 * and without the port; then {@code allow_any} (to PassthroughCluster) or {@code block_all} (502)
 * for everything else, by the outbound traffic policy. Routes without VirtualService retries get
 * Istio's default retry policy.
 */
final class SidecarRouteGenerator implements XdsGenerator {
  static final RetryPolicy DEFAULT_RETRY =
      RetryPolicy.newBuilder()
          .setRetryOn("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes")
          .setNumRetries(UInt32Value.of(2))
          .addRetryHostPredicate(
              RetryPolicy.RetryHostPredicate.newBuilder()
                  .setName("envoy.retry_host_predicates.previous_hosts")
                  .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())))
          .setHostSelectionRetryMaxAttempts(5)
          .addRetriableStatusCodes(503)
          .build();
  private static final Duration NO_TIMEOUT = Duration.getDefaultInstance();

  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    List<String> wanted = new ArrayList<>(names.names());
    if (names.wildcard()) {
      for (Service s : push.visibleServices(proxy)) {
        for (ServicePort p : s.ports()) {
          if (routed(p)) {
            wanted.add(Integer.toString(p.port()));
          }
        }
      }
      push.scope(proxy)
          .httpProxyListener(proxy)
          .ifPresent(e -> wanted.add(Integer.toString(e.port())));
    }
    for (String name : wanted) {
      int colon = name.lastIndexOf(':');
      int port;
      try {
        port = Integer.parseInt(name.substring(colon + 1));
      } catch (NumberFormatException e) {
        continue; // only port-named ("8080") and sniffed ("host:8080") route configurations
      }
      if (colon < 0) {
        out.put(name, routeConfig(name, port, proxy, push));
      } else {
        sniffedRouteConfig(name, name.substring(0, colon), port, proxy, push)
            .ifPresent(rc -> out.put(name, rc));
      }
    }
    return out;
  }

  private static RouteConfiguration routeConfig(
      String name, int listenerPort, Proxy proxy, PushContext push) {
    // Local mode's HTTP_PROXY listener takes every service port, as istiod's RDS for an
    // HTTP_PROXY egress listener does; its domains always carry the port (but for port 80).
    Optional<SidecarScope.EgressListener> proxyListener =
        push.scope(proxy).httpProxyListener(proxy).filter(e -> e.port() == listenerPort);
    boolean httpProxy = proxyListener.isPresent();
    RouteConfiguration.Builder rc =
        RouteConfiguration.newBuilder()
            .setName(name)
            .setValidateClusters(com.google.protobuf.BoolValue.of(false));
    for (Service s : push.visibleServices(proxy)) {
      if (httpProxy
          && !SidecarScope.matchesAny(proxyListener.get().hosts(), s, proxy.namespace())) {
        continue; // the HTTP proxy listener serves only its own egress hosts
      }
      for (ServicePort sp : httpProxy ? s.ports() : s.port(listenerPort).stream().toList()) {
        if (!routed(sp)) {
          continue;
        }
        int port = sp.port();
        List<String> domains = domains(s, port, proxy, push.registry().domainSuffix());
        if (httpProxy && port != 80) {
          domains = domains.stream().filter(d -> d.endsWith(":" + port)).toList();
        }
        rc.addVirtualHosts(virtualHost(s, port, domains, proxy, push));
      }
    }
    addCatchAll(rc, proxy, push);
    return rc.build();
  }

  /** Route configuration name of a sniffed port's HTTP chain on a bound listener (istiod's). */
  static String sniffedRouteName(String hostname, int port) {
    return hostname + ":" + port;
  }

  /**
   * istiod's route configuration for a sniffed port bound to one service ({@code host:port}): that
   * service's virtual host alone, for any authority, and no catch-all. Absent when the service is
   * not visible or its port is not HTTP or undeclared.
   */
  private static Optional<RouteConfiguration> sniffedRouteConfig(
      String name, String hostname, int port, Proxy proxy, PushContext push) {
    for (Service s : push.visibleServices(proxy)) {
      if (s.hostname().equals(hostname)
          && s.port(port).filter(SidecarRouteGenerator::routed).isPresent()) {
        return Optional.of(
            RouteConfiguration.newBuilder()
                .setName(name)
                .setValidateClusters(com.google.protobuf.BoolValue.of(false))
                .addVirtualHosts(virtualHost(s, port, List.of("*"), proxy, push))
                .build());
      }
    }
    return Optional.empty();
  }

  /** Whether a service port gets virtual hosts: HTTP, or undeclared (sniffed) as istiod. */
  static boolean routed(ServicePort p) {
    return p.protocol().isHttp() || p.protocol() == Protocol.UNSUPPORTED;
  }

  private static VirtualHost virtualHost(
      Service s, int port, List<String> domains, Proxy proxy, PushContext push) {
    RetryPolicy meshRetry = HttpRoutes.meshRetry(push);
    VirtualHost.Builder vh =
        VirtualHost.newBuilder()
            .setName(s.hostname() + ":" + port)
            .addAllDomains(domains)
            .setIncludeRequestAttemptCount(true);
    Optional<List<HttpRoute>> routes = push.httpRoutes(s, port, proxy);
    if (routes.isEmpty()) {
      RouteAction.Builder action =
          RouteAction.newBuilder()
              .setCluster(ClusterName.outbound(port, "", s.hostname()))
              .setTimeout(NO_TIMEOUT);
      if (meshRetry != null) {
        action.setRetryPolicy(meshRetry);
      }
      Route route =
          Route.newBuilder()
              .setName("default")
              .setMatch(RouteMatch.newBuilder().setPrefix("/"))
              .setDecorator(HttpRoutes.defaultOperation(s.hostname(), port))
              .setRoute(action)
              .build();
      vh.addRoutes(
          HttpRoutes.withHashPolicy(
              route,
              List.of(new HttpRoute.Destination(s.hostname(), port, "", 1)),
              port,
              proxy,
              push));
    } else {
      for (HttpRoute r : routes.get()) {
        Route route = HttpRoutes.withMeshDefaults(HttpRoutes.route(r, port), r, push);
        vh.addRoutes(HttpRoutes.withHashPolicy(route, r.destinations(), port, proxy, push));
      }
    }
    return vh.build();
  }

  private static void addCatchAll(RouteConfiguration.Builder rc, Proxy proxy, PushContext push) {
    if (push.outboundTrafficPolicy(proxy) == SidecarScope.OutboundTrafficPolicy.ALLOW_ANY) {
      rc.addVirtualHosts(
          VirtualHost.newBuilder()
              .setName("allow_any")
              .addDomains("*")
              .setIncludeRequestAttemptCount(true)
              .addRoutes(
                  Route.newBuilder()
                      .setName("allow_any")
                      .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                      .setRoute(
                          RouteAction.newBuilder()
                              .setCluster(ClusterGenerator.PASSTHROUGH)
                              .setTimeout(NO_TIMEOUT))));
    } else {
      rc.addVirtualHosts(
          VirtualHost.newBuilder()
              .setName("block_all")
              .addDomains("*")
              .setIncludeRequestAttemptCount(true)
              .addRoutes(
                  Route.newBuilder()
                      .setName("block_all")
                      .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                      .setDirectResponse(DirectResponseAction.newBuilder().setStatus(502))));
    }
  }

  /**
   * The hostname, then the short names Kubernetes DNS resolves for a client in the proxy's
   * namespace ({@code forecast} only from the same namespace; {@code forecast.weather} and {@code
   * forecast.weather.svc} from any), each also with {@code :port}.
   */
  static List<String> domains(Service s, int port, Proxy proxy, String domainSuffix) {
    List<String> hosts = new ArrayList<>();
    hosts.add(s.hostname());
    if (s.hostname().equals(s.name() + "." + s.namespace() + ".svc." + domainSuffix)) {
      if (s.namespace().equals(proxy.namespace())) {
        hosts.add(s.name());
      }
      hosts.add(s.name() + "." + s.namespace());
      hosts.add(s.name() + "." + s.namespace() + ".svc");
    }
    List<String> out = new ArrayList<>();
    for (String h : hosts) {
      out.add(h);
      out.add(h + ":" + port);
    }
    return out;
  }
}
