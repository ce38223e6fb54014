package dev.bowline.proxy.network.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.TextFormat;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.TrafficDirection;
import dev.bowline.proxy.http.filter.rbac.RbacFactory;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC;
import org.junit.jupiter.api.Test;

/** Both RBAC factories: config errors name the field; counters get Envoy's names. */
class NetworkRbacFactoryTest {
  @Test
  void theNetworkFilterNeedsAStatPrefixAndOneTimeEnforcement() {
    var f = new NetworkRbacFactory(new Stats());
    assertThatThrownBy(() -> f.parse(Any.pack(RBAC.getDefaultInstance())))
        .hasMessage("stat_prefix: must not be empty");
    assertThatThrownBy(
            () ->
                f.parse(
                    Any.pack(
                        RBAC.newBuilder()
                            .setStatPrefix("tcp.")
                            .setEnforcementType(RBAC.EnforcementType.CONTINUOUS)
                            .build())))
        .hasMessageContaining("enforcement_type");
  }

  @Test
  void countersAreNamedAsEnvoys() throws Exception {
    Stats stats = new Stats();
    new NetworkRbacFactory(stats).parse(Any.pack(RBAC.newBuilder().setStatPrefix("tcp.").build()));
    var http = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder();
    TextFormat.merge(
        "rules { action: ALLOW } shadow_rules { action: DENY }"
            + " shadow_rules_stat_prefix: \"istio_dry_run_deny_\"",
        http);
    new RbacFactory(stats)
        .parse(
            Any.pack(http.build()),
            new FilterContext(TrafficDirection.INBOUND).inConnectionManager("inbound_0.0.0.0_80"));
    assertThat(stats.all())
        .extracting(c -> c.name())
        .contains(
            "tcp.rbac.allowed",
            "tcp.rbac.denied",
            "http.inbound_0.0.0.0_80.rbac.allowed",
            "http.inbound_0.0.0.0_80.rbac.denied",
            "http.inbound_0.0.0.0_80.rbac.istio_dry_run_deny_shadow_allowed",
            "http.inbound_0.0.0.0_80.rbac.istio_dry_run_deny_shadow_denied");
  }

  @Test
  void aBadMatcherInTheHttpFilterNamesItsPath() {
    var http =
        io.envoyproxy
            .envoy
            .extensions
            .filters
            .http
            .rbac
            .v3
            .RBAC
            .newBuilder()
            .setRules(
                io.envoyproxy
                    .envoy
                    .config
                    .rbac
                    .v3
                    .RBAC
                    .newBuilder()
                    .putPolicies(
                        "p",
                        io.envoyproxy.envoy.config.rbac.v3.Policy.newBuilder()
                            .addPermissions(
                                io.envoyproxy.envoy.config.rbac.v3.Permission.newBuilder()
                                    .setDestinationPort(70000))
                            .addPrincipals(
                                io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()
                                    .setAny(true))
                            .build()))
            .build();
    assertThatThrownBy(() -> new RbacFactory(new Stats()).parse(Any.pack(http)))
        .hasMessage("rules.policies[p].permissions[0].destination_port: must be <= 65535");
  }
}
