package dev.bowline.proxy.config;

import java.util.Map;

/**
 * A route: what it matches, what it does, the headers it adds or removes on the request and the
 * response, and {@code filterConfigs}: its {@code typed_per_filter_config}, per HTTP filter name
 * that filter's per-route config as its factory built it.
 */
public record Route(
    String name,
    RouteMatch match,
    RouteAction action,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    Map<String, Object> filterConfigs) {
  public Route {
    filterConfigs = Map.copyOf(filterConfigs);
  }

  public Route(
      String name,
      RouteMatch match,
      RouteAction action,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders) {
    this(name, match, action, requestHeaders, responseHeaders, Map.of());
  }

  public Route(String name, RouteMatch match, RouteAction action) {
    this(name, match, action, HeaderMutation.NONE, HeaderMutation.NONE);
  }
}
