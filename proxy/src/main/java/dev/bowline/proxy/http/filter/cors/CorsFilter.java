package dev.bowline.proxy.http.filter.cors;

import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamContext;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/**
 * One stream's CORS filter, as Envoy's: a request with an allowed {@code origin} is a CORS request;
 * an {@code OPTIONS} one with {@code access-control-request-method} is a preflight, answered 200
 * here with the allow headers; other CORS requests go on and their response gets {@code
 * access-control-allow-origin} (and credentials, expose headers).
 */
final class CorsFilter implements HttpFilter {
  private @Nullable CorsConfig policy;
  private @Nullable String origin;
  private boolean preflight;

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    if (!(routeConfig instanceof CorsConfig c)) {
      return FilterStatus.CONTINUE;
    }
    String o = request.headers().get("origin");
    if (o == null || o.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    if (c.enabledPerMillion() < 1_000_000
        && stream.random().nextInt(1_000_000) >= c.enabledPerMillion()) {
      return FilterStatus.CONTINUE;
    }
    boolean isPreflight =
        request.method().equals(HttpMethod.OPTIONS)
            && !request.headers().get("access-control-request-method", "").isEmpty();
    if (!c.allows(o)) {
      if (isPreflight && !c.forwardNotMatchingPreflights()) {
        stream.sendLocalReply(403, "", null);
        return FilterStatus.STOP_ITERATION;
      }
      return FilterStatus.CONTINUE;
    }
    policy = c;
    origin = o;
    if (!isPreflight) {
      return FilterStatus.CONTINUE;
    }
    preflight = true;
    stream.sendLocalReply(200, "", null);
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    CorsConfig c = policy;
    String o = origin;
    if (c == null || o == null) {
      return;
    }
    HttpHeaders h = response.headers();
    h.set("access-control-allow-origin", o);
    if (c.allowCredentials()) {
      h.set("access-control-allow-credentials", "true");
    }
    if (preflight) {
      setIfAny(h, "access-control-allow-methods", c.allowMethods());
      setIfAny(h, "access-control-allow-headers", c.allowHeaders());
      setIfAny(h, "access-control-max-age", c.maxAge());
    } else {
      setIfAny(h, "access-control-expose-headers", c.exposeHeaders());
    }
  }

  private static void setIfAny(HttpHeaders h, String name, String value) {
    if (!value.isEmpty()) {
      h.set(name, value);
    }
  }
}
