package dev.bowline.proxy.config;

/**
 * A route: what it matches, what it does, and the headers it adds or removes on the request and the
 * response.
 */
public record Route(
    String name,
    RouteMatch match,
    RouteAction action,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders) {
  public Route(String name, RouteMatch match, RouteAction action) {
    this(name, match, action, HeaderMutation.NONE, HeaderMutation.NONE);
  }
}
