package dev.bowline.proxy.http.filter.router;

import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.QueryMatch;
import dev.bowline.proxy.config.Route;
import dev.bowline.proxy.config.VirtualHost;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Finds the first route of a virtual host that matches a request. */
public final class RouteMatcher {
  private RouteMatcher() {}

  /**
   * The first route of {@code vh} matching the request, or null.
   *
   * @param path the path without query
   * @param rawQuery the query string without {@code ?}, possibly empty
   */
  public static @Nullable Route match(
      VirtualHost vh, String path, String rawQuery, HttpHeaders headers) {
    return match(vh, path, rawQuery, headers, false);
  }

  /**
   * The first route of {@code vh} matching the request, or null; a CONNECT request ({@code
   * connect}) is matched by {@code connect_matcher} routes only, as in Envoy.
   */
  public static @Nullable Route match(
      VirtualHost vh, String path, String rawQuery, HttpHeaders headers, boolean connect) {
    Map<String, List<String>> params = null;
    // indexed loops: no iterator per request, also where escape analysis does not remove it (C1)
    List<Route> routes = vh.routes();
    for (int i = 0, n = routes.size(); i < n; i++) {
      Route r = routes.get(i);
      var m = r.match();
      if (!m.matchesPath(path, connect)) {
        continue;
      }
      boolean ok = true;
      List<HeaderMatch> headerMatches = m.headers();
      for (int j = 0, hn = headerMatches.size(); j < hn; j++) {
        HeaderMatch h = headerMatches.get(j);
        String actual =
            h.name().equals(":authority") ? headers.get("host") : joined(headers, h.name());
        if (!h.matches(actual)) {
          ok = false;
          break;
        }
      }
      if (ok && !m.query().isEmpty()) {
        if (params == null) {
          params = queryParams(rawQuery);
        }
        for (QueryMatch q : m.query()) {
          List<String> values = params.get(q.name());
          if (!q.matches(values == null || values.isEmpty() ? null : values.getFirst())) {
            ok = false;
            break;
          }
        }
      }
      if (ok) {
        return r;
      }
    }
    return null;
  }

  /**
   * The decoded query parameters; a query with a malformed escape ({@code k%v}) has none, so it
   * matches no query_parameters matcher rather than failing the request.
   */
  private static java.util.Map<String, List<String>> queryParams(String rawQuery) {
    try {
      return new QueryStringDecoder(rawQuery, false).parameters();
    } catch (IllegalArgumentException malformed) {
      return java.util.Map.of();
    }
  }

  private static @Nullable String joined(HttpHeaders headers, String name) {
    List<String> all = headers.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.getFirst() : String.join(",", all);
  }
}
