package dev.bowline.proxy.config;

import java.util.Map;

/**
 * A route: what it matches, what it does, the headers it adds or removes on the request and the
 * response, and {@code filterConfigs}: its {@code typed_per_filter_config}, per HTTP filter name
 * that filter's per-route config as its factory built it; {@code decorator}: its {@code
 * decorator.operation}, the name of the spans it serves ({@code ""} when none); {@code metadata}:
 * its {@code metadata.filter_metadata} (Istio's {@code istio} names the config it came from), which
 * access logs read ({@code %METADATA(ROUTE:...)%}).
 */
public record Route(
    String name,
    RouteMatch match,
    RouteAction action,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    Map<String, Object> filterConfigs,
    String decorator,
    Map<String, com.google.protobuf.Struct> metadata) {
  public Route {
    filterConfigs = Map.copyOf(filterConfigs);
    metadata = Map.copyOf(metadata);
  }

  /** A route without metadata. */
  public Route(
      String name,
      RouteMatch match,
      RouteAction action,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      Map<String, Object> filterConfigs,
      String decorator) {
    this(name, match, action, requestHeaders, responseHeaders, filterConfigs, decorator, Map.of());
  }

  /** A route without a {@code decorator}. */
  public Route(
      String name,
      RouteMatch match,
      RouteAction action,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      Map<String, Object> filterConfigs) {
    this(name, match, action, requestHeaders, responseHeaders, filterConfigs, "");
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
