package dev.bowline.proxy.http.filter.localratelimit;

import dev.bowline.proxy.config.HeaderMutation;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamContext;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/**
 * One stream's local rate limit, as Envoy's: the route's config wins over the filter's; enabled
 * requests take a token; over the limit and enforced, the request is answered locally.
 */
final class LocalRateLimitFilter implements HttpFilter {
  private final LocalRateLimitConfig filterConfig;
  private @Nullable LocalRateLimitConfig applied;
  private boolean limited;

  LocalRateLimitFilter(LocalRateLimitConfig filterConfig) {
    this.filterConfig = filterConfig;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    LocalRateLimitConfig c = routeConfig instanceof LocalRateLimitConfig rc ? rc : filterConfig;
    TokenBucket bucket = c.bucket().orElse(null);
    if (bucket == null || !draw(stream, c.enabledPerMillion())) {
      return FilterStatus.CONTINUE;
    }
    c.stats().enabled().inc();
    applied = c;
    if (bucket.tryConsume()) {
      c.stats().ok().inc();
      return FilterStatus.CONTINUE;
    }
    c.stats().rateLimited().inc();
    if (!draw(stream, c.enforcedPerMillion())) {
      if (!c.requestHeadersWhenNotEnforced().isEmpty()) {
        c.requestHeadersWhenNotEnforced()
            .applyTo(new HeaderMutation.Http1Headers(request.headers()));
      }
      return FilterStatus.CONTINUE;
    }
    c.stats().enforced().inc();
    limited = true;
    stream.sendLocalReply(c.status(), "local_rate_limited", ResponseFlag.RL);
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    LocalRateLimitConfig c = applied;
    if (c == null) {
      return;
    }
    HttpHeaders h = response.headers();
    if (limited && !c.responseHeaders().isEmpty()) {
      c.responseHeaders().applyTo(new HeaderMutation.Http1Headers(h));
    }
    TokenBucket b = c.bucket().orElse(null);
    if (c.rateLimitHeaders() && b != null) {
      h.set("x-ratelimit-limit", b.maxTokens());
      h.set("x-ratelimit-remaining", b.remaining());
      h.set("x-ratelimit-reset", b.secondsToNextFill());
    }
  }

  private static boolean draw(StreamContext stream, int perMillion) {
    return perMillion >= 1_000_000
        || (perMillion > 0 && stream.random().nextInt(1_000_000) < perMillion);
  }
}
