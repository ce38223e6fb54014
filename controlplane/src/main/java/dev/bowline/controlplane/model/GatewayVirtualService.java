package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Objects;

/**
 * A VirtualService bound to a Gateway ({@code spec.gateways}), as a gateway proxy sees it: its
 * hosts and its HTTP and TCP routes, already resolved for one server port.
 *
 * @param namespace the VirtualService's namespace
 * @param name its name
 * @param hosts its {@code spec.hosts}, short names made fully qualified in its namespace
 * @param http its HTTP routes for the port, in order (matches for other ports, gateways or source
 *     labels dropped)
 * @param tcp the destinations of its first TCP route that applies to the port (empty if none)
 * @param tls its TLS routes that apply to the port, in order (SNI passthrough)
 */
public record GatewayVirtualService(
    String namespace,
    String name,
    List<String> hosts,
    List<HttpRoute> http,
    List<HttpRoute.Destination> tcp,
    List<TlsRoute> tls) {
  /** A VirtualService without TLS routes. */
  public GatewayVirtualService(
      String namespace,
      String name,
      List<String> hosts,
      List<HttpRoute> http,
      List<HttpRoute.Destination> tcp) {
    this(namespace, name, hosts, http, tcp, List.of());
  }

  /**
   * One {@code tls:} route: the SNI names it matches (empty: the VirtualService's hosts) and where
   * it sends the connection, untouched.
   */
  public record TlsRoute(List<String> sniHosts, List<HttpRoute.Destination> destinations) {
    public TlsRoute {
      sniHosts = List.copyOf(sniHosts);
      destinations = List.copyOf(destinations);
    }
  }

  public GatewayVirtualService {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    hosts = List.copyOf(hosts);
    http = List.copyOf(http);
    tcp = List.copyOf(tcp);
    tls = List.copyOf(tls);
  }
}
