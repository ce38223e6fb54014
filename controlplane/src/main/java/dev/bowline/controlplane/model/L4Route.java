package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Objects;

/**
 * One resolved VirtualService {@code tcp} or {@code tls} route for a service port: the SNI names it
 * matches (TLS routes; empty for TCP) and its weighted destinations, as the listener generators
 * turn it into a {@code tcp_proxy} (weighted clusters for TCP traffic shifting) in a filter chain.
 *
 * @param sniHosts TLS server names the chain matches ({@code *.example.com} allowed); empty for TCP
 * @param destinations weighted destinations, weights relative and positive
 */
public record L4Route(List<String> sniHosts, List<HttpRoute.Destination> destinations) {
  public L4Route {
    sniHosts = List.copyOf(sniHosts);
    destinations = List.copyOf(destinations);
    Objects.requireNonNull(destinations, "destinations");
    if (destinations.isEmpty()) {
      throw new IllegalArgumentException("an L4 route needs at least one destination");
    }
  }
}
