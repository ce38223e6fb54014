package dev.bowline.proxy.http.filter.localratelimit;

import dev.bowline.proxy.config.HeaderMutation;
import dev.bowline.proxy.stats.Counter;
import java.util.Optional;

/**
 * A local rate limit (the filter's or a route's). Holds its token bucket: one per config object,
 * shared by every event loop, replaced (full) when the config is.
 *
 * @param statPrefix Envoy's {@code stat_prefix}
 * @param status the status of limited requests (429 by default)
 * @param bucket absent: the filter only passes requests on (until a route sets one)
 * @param enabledPerMillion {@code filter_enabled} (default 0%, as Envoy)
 * @param enforcedPerMillion {@code filter_enforced} (default 0%, as Envoy)
 * @param responseHeaders added to limited responses
 * @param requestHeadersWhenNotEnforced added to requests over the limit that pass (not enforced)
 * @param rateLimitHeaders {@code enable_x_ratelimit_headers: DRAFT_VERSION_03}
 * @param stats how many requests were seen enabled, enforced, limited and ok
 */
public record LocalRateLimitConfig(
    String statPrefix,
    int status,
    Optional<TokenBucket> bucket,
    int enabledPerMillion,
    int enforcedPerMillion,
    HeaderMutation responseHeaders,
    HeaderMutation requestHeadersWhenNotEnforced,
    boolean rateLimitHeaders,
    Stats stats) {

  /** Envoy's {@code <stat_prefix>.http_local_rate_limit.*} counters. */
  public record Stats(Counter enabled, Counter enforced, Counter rateLimited, Counter ok) {
    static Stats create(dev.bowline.proxy.stats.Stats stats, String prefix) {
      return new Stats(
          counter(stats, prefix, "enabled"),
          counter(stats, prefix, "enforced"),
          counter(stats, prefix, "rate_limited"),
          counter(stats, prefix, "ok"));
    }

    private static Counter counter(dev.bowline.proxy.stats.Stats stats, String prefix, String n) {
      String name = prefix + ".http_local_rate_limit." + n;
      return stats.counter(name, "envoy_" + name.replace('.', '_'), java.util.Map.of());
    }
  }
}
