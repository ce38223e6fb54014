package dev.bowline.proxy.config;

import java.util.List;

/** A virtual host: its domains, routes in order (first match wins), and its header mutations. */
public record VirtualHost(
    String name,
    List<String> domains,
    List<Route> routes,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders) {
  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
  }

  public VirtualHost(String name, List<String> domains, List<Route> routes) {
    this(name, domains, routes, HeaderMutation.NONE, HeaderMutation.NONE);
  }
}
