package dev.bowline.proxy.http.filter.cors;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * Factory of {@code envoy.filters.http.cors}: the filter config ({@code Cors}) has nothing to set;
 * the policy is per route ({@code CorsPolicy}).
 */
public final class CorsFactory implements HttpFilterFactory<Cors> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public Cors parse(Any typedConfig) throws InvalidProtocolBufferException {
    return Anys.unpack(typedConfig, Cors.getDescriptor(), Cors.parser());
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return Cors.getDescriptor();
  }

  @Override
  public List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return List.of(CorsPolicy.getDescriptor());
  }

  @Override
  public Object parsePerRoute(Any typedConfig) throws InvalidProtocolBufferException {
    return config(Anys.unpack(typedConfig, CorsPolicy.getDescriptor(), CorsPolicy.parser()));
  }

  @Override
  public HttpFilter create(Cors config) {
    return new CorsFilter();
  }

  static CorsConfig config(CorsPolicy p) {
    List<StringMatch> origins = new ArrayList<>();
    for (int i = 0; i < p.getAllowOriginStringMatchCount(); i++) {
      origins.add(match(p.getAllowOriginStringMatch(i), "allow_origin_string_match[" + i + "]"));
    }
    int enabled = 1_000_000;
    if (p.hasFilterEnabled()) {
      var d = p.getFilterEnabled().getDefaultValue();
      long scale =
          switch (d.getDenominator()) {
            case HUNDRED -> 10_000;
            case TEN_THOUSAND -> 100;
            case MILLION -> 1;
            case UNRECOGNIZED ->
                throw new IllegalArgumentException("filter_enabled: unknown denominator");
          };
      enabled = (int) Math.min(1_000_000L, (d.getNumerator() & 0xFFFFFFFFL) * scale);
    }
    return new CorsConfig(
        origins,
        p.getAllowMethods(),
        p.getAllowHeaders(),
        p.getExposeHeaders(),
        p.getMaxAge(),
        p.hasAllowCredentials() && p.getAllowCredentials().getValue(),
        enabled,
        !p.hasForwardNotMatchingPreflights() || p.getForwardNotMatchingPreflights().getValue());
  }

  private static StringMatch match(StringMatcher m, String field) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> new StringMatch.Exact(m.getExact(), ic);
      case PREFIX -> new StringMatch.Prefix(m.getPrefix(), ic);
      case SUFFIX -> new StringMatch.Suffix(m.getSuffix(), ic);
      case CONTAINS -> new StringMatch.Contains(m.getContains());
      case SAFE_REGEX -> {
        try {
          yield new StringMatch.Regex(java.util.regex.Pattern.compile(m.getSafeRegex().getRegex()));
        } catch (java.util.regex.PatternSyntaxException e) {
          throw new IllegalArgumentException(field + ".safe_regex: " + e.getDescription());
        }
      }
      case CUSTOM, MATCHPATTERN_NOT_SET ->
          throw new IllegalArgumentException(
              field + ": one of exact, prefix, suffix, contains," + " safe_regex is required");
    };
  }
}
