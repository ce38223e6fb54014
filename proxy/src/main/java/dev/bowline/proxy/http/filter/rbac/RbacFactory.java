package dev.bowline.proxy.http.filter.rbac;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.RbacEngine;
import dev.bowline.proxy.rbac.RbacProtos;
import dev.bowline.proxy.rbac.RbacStats;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute;
import java.util.List;
import java.util.Optional;

/** Factory of {@code envoy.filters.http.rbac}, also per route ({@code RBACPerRoute}). */
public final class RbacFactory implements HttpFilterFactory<RbacConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";

  private final Stats stats;

  /** A factory whose counters ({@code http.<stat_prefix>.rbac.*}) are in {@code stats}. */
  public RbacFactory(Stats stats) {
    this.stats = stats;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public RbacConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig, FilterContext.NONE);
  }

  @Override
  public RbacConfig parse(Any typedConfig, FilterContext context)
      throws InvalidProtocolBufferException {
    return config(
        Anys.unpack(typedConfig, RBAC.getDescriptor(), RBAC.parser()), context.statPrefix());
  }

  RbacConfig config(RBAC p, String scope) {
    if (p.hasMatcher() || p.hasShadowMatcher()) {
      throw new IllegalArgumentException("matcher, shadow_matcher: not supported (use rules)");
    }
    String rulesPrefix = rulesStatPrefix(p);
    return new RbacConfig(
        p.hasRules() ? Optional.of(RbacProtos.engine(p.getRules(), "rules")) : Optional.empty(),
        p.hasShadowRules()
            ? Optional.of(RbacProtos.engine(p.getShadowRules(), "shadow_rules"))
            : Optional.empty(),
        RbacStats.create(stats, scope + rulesPrefix, p.getShadowRulesStatPrefix()),
        p.getShadowRulesStatPrefix());
  }

  private static String rulesStatPrefix(RBAC p) {
    var f = RBAC.getDescriptor().findFieldByName("rules_stat_prefix");
    return f == null ? "" : (String) p.getField(f);
  }

  @Override
  public Object parsePerRoute(Any typedConfig) throws InvalidProtocolBufferException {
    RBACPerRoute r = Anys.unpack(typedConfig, RBACPerRoute.getDescriptor(), RBACPerRoute.parser());
    if (!r.hasRbac()) {
      return new RbacConfig.PerRoute(Optional.empty(), Optional.empty());
    }
    RBAC p = r.getRbac();
    Optional<RbacEngine> rules =
        p.hasRules()
            ? Optional.of(RbacProtos.engine(p.getRules(), "rbac.rules"))
            : Optional.empty();
    Optional<RbacEngine> shadow =
        p.hasShadowRules()
            ? Optional.of(RbacProtos.engine(p.getShadowRules(), "rbac.shadow_rules"))
            : Optional.empty();
    return new RbacConfig.PerRoute(rules, shadow);
  }

  @Override
  public List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return List.of(RBACPerRoute.getDescriptor());
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return RBAC.getDescriptor();
  }

  @Override
  public HttpFilter create(RbacConfig config) {
    throw new UnsupportedOperationException("the RBAC filter needs its stream");
  }

  @Override
  public HttpFilter create(RbacConfig config, StreamInfo stream) {
    return new RbacFilter(config, stream);
  }
}
