package dev.bowline.proxy.http.filter.cors;

import dev.bowline.proxy.config.StringMatch;
import java.util.List;

/**
 * A route's (or virtual host's) {@code CorsPolicy}; header lists are kept as the comma-joined
 * strings they are sent as.
 *
 * @param allowOrigins origins allowed; an exact {@code *} allows any
 * @param allowMethods {@code access-control-allow-methods}, empty: not sent
 * @param allowHeaders {@code access-control-allow-headers}, empty: not sent
 * @param exposeHeaders {@code access-control-expose-headers}, empty: not sent
 * @param maxAge {@code access-control-max-age}, empty: not sent
 * @param allowCredentials send {@code access-control-allow-credentials: true}
 * @param enabledPerMillion {@code filter_enabled} share (default all)
 * @param forwardNotMatchingPreflights a preflight from a disallowed origin goes upstream
 */
public record CorsConfig(
    List<StringMatch> allowOrigins,
    String allowMethods,
    String allowHeaders,
    String exposeHeaders,
    String maxAge,
    boolean allowCredentials,
    int enabledPerMillion,
    boolean forwardNotMatchingPreflights) {
  public CorsConfig {
    allowOrigins = List.copyOf(allowOrigins);
  }

  /** Whether {@code origin} is allowed. */
  public boolean allows(String origin) {
    for (StringMatch m : allowOrigins) {
      if (m.matches(origin) || (m instanceof StringMatch.Exact e && e.value().equals("*"))) {
        return true;
      }
    }
    return false;
  }
}
