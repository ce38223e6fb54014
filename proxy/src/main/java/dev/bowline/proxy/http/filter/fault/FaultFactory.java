package dev.bowline.proxy.http.filter.fault;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Factory of {@code envoy.filters.http.fault} ({@code HTTPFault}), also per route. */
public final class FaultFactory implements HttpFilterFactory<FaultConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public FaultConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return config(Anys.unpack(typedConfig, HTTPFault.getDescriptor(), HTTPFault.parser()));
  }

  @Override
  public Object parsePerRoute(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig);
  }

  @Override
  public List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return List.of(HTTPFault.getDescriptor());
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return HTTPFault.getDescriptor();
  }

  @Override
  public HttpFilter create(FaultConfig config) {
    return new FaultFilter(config);
  }

  /** The config of {@code f}; unsupported choices are errors naming the field. */
  static FaultConfig config(HTTPFault f) {
    if (f.hasMaxActiveFaults()
        || f.hasResponseRateLimit()
        || !f.getUpstreamCluster().isEmpty()
        || f.getDownstreamNodesCount() > 0) {
      throw new IllegalArgumentException(
          "max_active_faults, response_rate_limit, upstream_cluster and downstream_nodes are not"
              + " supported");
    }
    Optional<FaultConfig.Delay> delay = Optional.empty();
    if (f.hasDelay()) {
      var d = f.getDelay();
      if (!d.hasFixedDelay()) {
        throw new IllegalArgumentException("delay: only fixed_delay is supported");
      }
      Duration fixed =
          Duration.ofSeconds(d.getFixedDelay().getSeconds(), d.getFixedDelay().getNanos());
      if (fixed.isNegative()) {
        throw new IllegalArgumentException("delay.fixed_delay: must not be negative");
      }
      delay =
          Optional.of(
              new FaultConfig.Delay(fixed, perMillion(d.getPercentage(), "delay.percentage")));
    }
    Optional<FaultConfig.Abort> abort = Optional.empty();
    if (f.hasAbort()) {
      var a = f.getAbort();
      int pm = perMillion(a.getPercentage(), "abort.percentage");
      abort =
          Optional.of(
              switch (a.getErrorTypeCase()) {
                case HTTP_STATUS -> {
                  if (a.getHttpStatus() < 200 || a.getHttpStatus() >= 600) {
                    throw new IllegalArgumentException(
                        "abort.http_status: must be in [200, 600), got " + a.getHttpStatus());
                  }
                  yield new FaultConfig.HttpAbort(a.getHttpStatus(), pm);
                }
                case GRPC_STATUS -> new FaultConfig.GrpcAbort(a.getGrpcStatus(), pm);
                case HEADER_ABORT, ERRORTYPE_NOT_SET ->
                    throw new IllegalArgumentException(
                        "abort: one of http_status, grpc_status is required");
              });
    }
    List<HeaderMatch> headers = new ArrayList<>();
    for (int i = 0; i < f.getHeadersCount(); i++) {
      var h = f.getHeaders(i);
      String field = "headers[" + i + "]";
      if (!h.hasStringMatch()
          && h.getHeaderMatchSpecifierCase().getNumber() != 0
          && !h.hasPresentMatch()) {
        throw new IllegalArgumentException(field + ": only string_match and present_match");
      }
      Optional<StringMatch> value = Optional.empty();
      if (h.hasStringMatch()) {
        var sm = h.getStringMatch();
        value =
            Optional.of(
                switch (sm.getMatchPatternCase()) {
                  case EXACT -> new StringMatch.Exact(sm.getExact(), sm.getIgnoreCase());
                  case PREFIX -> new StringMatch.Prefix(sm.getPrefix(), sm.getIgnoreCase());
                  case SUFFIX -> new StringMatch.Suffix(sm.getSuffix(), sm.getIgnoreCase());
                  case CONTAINS -> new StringMatch.Contains(sm.getContains());
                  case SAFE_REGEX ->
                      new StringMatch.Regex(
                          java.util.regex.Pattern.compile(sm.getSafeRegex().getRegex()));
                  case CUSTOM, MATCHPATTERN_NOT_SET ->
                      throw new IllegalArgumentException(field + ".string_match: not supported");
                });
      }
      boolean present = !h.hasPresentMatch() || h.getPresentMatch();
      headers.add(
          new HeaderMatch(
              h.getName().toLowerCase(java.util.Locale.ROOT), value, present, h.getInvertMatch()));
    }
    return new FaultConfig(delay, abort, headers);
  }

  /** Envoy's {@code FractionalPercent} in parts per million; absent means 100%. */
  static int perMillion(FractionalPercent p, String field) {
    long scale =
        switch (p.getDenominator()) {
          case HUNDRED -> 10_000;
          case TEN_THOUSAND -> 100;
          case MILLION -> 1;
          case UNRECOGNIZED -> throw new IllegalArgumentException(field + ": unknown denominator");
        };
    return (int) Math.min(1_000_000L, (p.getNumerator() & 0xFFFFFFFFL) * scale);
  }
}
