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
    return match(vh, path, rawQuery, headers, connect, null);
  }

  /**
   * As above; {@code method} (null: not known) is what a {@code :method} header matcher reads, as
   * Envoy's header map holds the pseudo-headers beside the others.
   */
  public static @Nullable Route match(
      VirtualHost vh,
      String path,
      String rawQuery,
      HttpHeaders headers,
      boolean connect,
      @Nullable String method) {
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
        if (!h.matches(value(headers, h.name(), method, path, rawQuery))) {
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

  /**
   * The virtual cluster of {@code vh} the request belongs to: the first whose headers all match
   * (the catch-all {@code other} last), or null when the virtual host has none. Envoy's {@code
   * virtualClusterFromEntries}.
   */
  public static dev.bowline.proxy.config.@Nullable VirtualCluster virtualCluster(
      VirtualHost vh, HttpHeaders headers, String method, String path, String rawQuery) {
    List<dev.bowline.proxy.config.VirtualCluster> vcs = vh.virtualClusters();
    for (int i = 0, n = vcs.size(); i < n; i++) {
      var vc = vcs.get(i);
      List<HeaderMatch> hm = vc.headers();
      boolean ok = true;
      for (int j = 0, hn = hm.size(); j < hn; j++) {
        HeaderMatch h = hm.get(j);
        if (!h.matches(value(headers, h.name(), method, path, rawQuery))) {
          ok = false;
          break;
        }
      }
      if (ok) {
        return vc;
      }
    }
    return null;
  }

  /**
   * What a header matcher of {@code name} reads: the pseudo-headers {@code :authority}, {@code
   * :method} and {@code :path} (with its query) from the request, other names every value joined
   * with {@code ,} (Envoy's {@code getAllOfHeaderAsString}).
   */
  private static @Nullable String value(
      HttpHeaders headers, String name, @Nullable String method, String path, String rawQuery) {
    if (!name.isEmpty() && name.charAt(0) == ':') {
      return switch (name) {
        case ":authority" -> headers.get("host");
        case ":method" -> method;
        case ":path" -> rawQuery.isEmpty() ? path : path + '?' + rawQuery;
        default -> joined(headers, name);
      };
    }
    return joined(headers, name);
  }

  private static @Nullable String joined(HttpHeaders headers, String name) {
    List<String> all = headers.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.getFirst() : String.join(",", all);
  }
}
