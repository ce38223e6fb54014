package dev.bowline.proxy.config;

import java.util.List;

/** A virtual host: its domains and routes in order (first match wins). */
public record VirtualHost(String name, List<String> domains, List<Route> routes) {
  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
  }
}
