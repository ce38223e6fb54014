package dev.bowline.proxy.network.rbac;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.network.NetworkFilterFactory;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.rbac.RbacProtos;
import dev.bowline.proxy.rbac.RbacStats;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC;
import java.util.Optional;

/** Factory of {@code envoy.filters.network.rbac}. */
public final class NetworkRbacFactory implements NetworkFilterFactory {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";

  private final Stats stats;

  /** A factory whose counters ({@code <stat_prefix>rbac.*}) are in {@code stats}. */
  public NetworkRbacFactory(Stats stats) {
    this.stats = stats;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public ReadFilter parse(Any typedConfig) throws InvalidProtocolBufferException {
    return config(Anys.unpack(typedConfig, RBAC.getDescriptor(), RBAC.parser()));
  }

  NetworkRbac config(RBAC p) {
    if (p.getStatPrefix().isEmpty()) {
      throw new IllegalArgumentException("stat_prefix: must not be empty");
    }
    if (p.hasMatcher() || p.hasShadowMatcher()) {
      throw new IllegalArgumentException("matcher, shadow_matcher: not supported (use rules)");
    }
    if (p.getEnforcementType() == RBAC.EnforcementType.CONTINUOUS) {
      throw new IllegalArgumentException(
          "enforcement_type: only ONE_TIME_ON_FIRST_BYTE is supported");
    }
    return new NetworkRbac(
        p.hasRules() ? Optional.of(RbacProtos.engine(p.getRules(), "rules")) : Optional.empty(),
        p.hasShadowRules()
            ? Optional.of(RbacProtos.engine(p.getShadowRules(), "shadow_rules"))
            : Optional.empty(),
        RbacStats.create(stats, p.getStatPrefix(), p.getShadowRulesStatPrefix()),
        p.getShadowRulesStatPrefix());
  }
}
