package dev.bowline.proxy.http.filter.localratelimit;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.HeaderMutation;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Factory of {@code envoy.filters.http.local_ratelimit} ({@code LocalRateLimit}), also per route.
 */
public final class LocalRateLimitFactory implements HttpFilterFactory<LocalRateLimitConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

  private final Stats stats;
  private final LongSupplier nanoTime;

  /**
   * A factory whose buckets fill by {@code nanoTime} and whose counters ({@code
   * <stat_prefix>.http_local_rate_limit.*}) are in {@code stats}.
   */
  public LocalRateLimitFactory(Stats stats, LongSupplier nanoTime) {
    this.stats = stats;
    this.nanoTime = nanoTime;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public LocalRateLimitConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return config(
        Anys.unpack(typedConfig, LocalRateLimit.getDescriptor(), LocalRateLimit.parser()));
  }

  @Override
  public Object parsePerRoute(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig);
  }

  @Override
  public List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return List.of(LocalRateLimit.getDescriptor());
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return LocalRateLimit.getDescriptor();
  }

  @Override
  public HttpFilter create(LocalRateLimitConfig config) {
    return new LocalRateLimitFilter(config);
  }

  LocalRateLimitConfig config(LocalRateLimit p) {
    if (p.getStatPrefix().isEmpty()) {
      throw new IllegalArgumentException("stat_prefix: must not be empty");
    }
    if (p.getDescriptorsCount() > 0
        || p.getStage() != 0
        || p.getLocalRateLimitPerDownstreamConnection()) {
      throw new IllegalArgumentException(
          "descriptors, stage and local_rate_limit_per_downstream_connection are not supported");
    }
    Optional<TokenBucket> bucket = Optional.empty();
    if (p.hasTokenBucket()) {
      var b = p.getTokenBucket();
      if (b.getMaxTokens() <= 0) {
        throw new IllegalArgumentException("token_bucket.max_tokens: must be > 0");
      }
      long perFill = b.hasTokensPerFill() ? b.getTokensPerFill().getValue() : 1;
      if (perFill <= 0) {
        throw new IllegalArgumentException("token_bucket.tokens_per_fill: must be > 0");
      }
      long interval =
          b.getFillInterval().getSeconds() * 1_000_000_000L + b.getFillInterval().getNanos();
      if (interval < 50_000_000L) {
        throw new IllegalArgumentException("token_bucket.fill_interval: must be at least 50ms");
      }
      bucket = Optional.of(new TokenBucket(b.getMaxTokens(), perFill, interval, nanoTime));
    }
    int status = p.hasStatus() ? p.getStatus().getCodeValue() : 429;
    if (status < 400 || status > 599) {
      status = 429; // Envoy: a status below 400 is replaced by 429
    }
    return new LocalRateLimitConfig(
        p.getStatPrefix(),
        status,
        bucket,
        p.hasFilterEnabled() ? perMillion(p.getFilterEnabled(), "filter_enabled") : 0,
        p.hasFilterEnforced() ? perMillion(p.getFilterEnforced(), "filter_enforced") : 0,
        headers(p.getResponseHeadersToAddList(), "response_headers_to_add"),
        headers(
            p.getRequestHeadersToAddWhenNotEnforcedList(),
            "request_headers_to_add_when_not_enforced"),
        p.getEnableXRatelimitHeaders()
            == io.envoyproxy.envoy.extensions.common.ratelimit.v3.XRateLimitHeadersRFCVersion
                .DRAFT_VERSION_03,
        LocalRateLimitConfig.Stats.create(stats, p.getStatPrefix()));
  }

  private static int perMillion(RuntimeFractionalPercent r, String field) {
    var d = r.getDefaultValue();
    long scale =
        switch (d.getDenominator()) {
          case HUNDRED -> 10_000;
          case TEN_THOUSAND -> 100;
          case MILLION -> 1;
          case UNRECOGNIZED -> throw new IllegalArgumentException(field + ": unknown denominator");
        };
    return (int) Math.min(1_000_000L, (d.getNumerator() & 0xFFFFFFFFL) * scale);
  }

  @SuppressWarnings("deprecation") // append (BoolValue) is what Istio's examples still write
  private static HeaderMutation headers(List<HeaderValueOption> add, String field) {
    if (add.isEmpty()) {
      return HeaderMutation.NONE;
    }
    List<HeaderMutation.Add> out = new ArrayList<>();
    for (int i = 0; i < add.size(); i++) {
      var o = add.get(i);
      String name = o.getHeader().getKey().toLowerCase(java.util.Locale.ROOT);
      if (name.isEmpty() || name.startsWith(":")) {
        throw new IllegalArgumentException(field + "[" + i + "].header.key: invalid name");
      }
      boolean append =
          o.hasAppend()
              ? o.getAppend().getValue()
              : o.getAppendAction() == HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;
      out.add(
          new HeaderMutation.Add(
              name,
              o.getHeader().getValue(),
              append
                  ? HeaderMutation.Action.APPEND_IF_EXISTS_OR_ADD
                  : HeaderMutation.Action.OVERWRITE_IF_EXISTS_OR_ADD));
    }
    return new HeaderMutation(out, List.of());
  }
}
