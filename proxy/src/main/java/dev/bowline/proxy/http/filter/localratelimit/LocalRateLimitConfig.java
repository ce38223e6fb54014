package dev.bowline.proxy.http.filter.localratelimit;

import dev.bowline.proxy.config.HeaderMutation;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

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

  /** Envoy's {@code http_local_rate_limit.*} counters. */
  public record Stats(LongAdder enabled, LongAdder enforced, LongAdder rateLimited, LongAdder ok) {
    static Stats create() {
      return new Stats(new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder());
    }
  }
}
