package dev.bowline.controlplane.xds.gen.authz;

import com.google.protobuf.Any;
import dev.bowline.api.Resource;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.AuthorizationPolicy;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The filters of a workload's CUSTOM AuthorizationPolicies, as istiod 1.16's CUSTOM builder makes
 * them: an RBAC filter with the CUSTOM rules (action DENY, names {@code
 * istio-ext-authz-ns[NS]-policy[NAME]-rule[i]}) as <em>shadow</em> rules under the stat prefix
 * {@code istio_ext_authz_}, which only marks the requests they match, then the provider's ext_authz
 * filter, enabled by that mark: only matched requests are sent to the authorizer. TCP chains get
 * the same pair with the network filters for a gRPC provider and nothing for an HTTP one. A
 * provider that is unknown, broken, or not the same for all CUSTOM policies of the workload makes
 * istiod deny every request instead ({@code default-deny-all-due-to-bad-CUSTOM-action}), and so
 * does this.
 *
 * @param http the HTTP filters, to go before request authentication and the other RBAC filters
 * @param tcp the network filters, to go before the other network RBAC filters
 * @param errors why the CUSTOM action could not be built (then the filters deny everything), each
 *     naming the policy or provider and the field
 */
public record CustomAuthz(List<HttpFilter> http, List<Filter> tcp, List<String> errors) {
  private static final System.Logger LOG = System.getLogger(CustomAuthz.class.getName());

  public static final String HTTP_EXT_AUTHZ = "envoy.filters.http.ext_authz";
  public static final String NETWORK_EXT_AUTHZ = "envoy.filters.network.ext_authz";

  /** istiod's policy denying everything when the CUSTOM action cannot be built. */
  static final String DENY_ALL = "default-deny-all-due-to-bad-CUSTOM-action";

  /** No CUSTOM policy: no filter. */
  public static final CustomAuthz NONE = new CustomAuthz(List.of(), List.of(), List.of());

  public CustomAuthz {
    http = List.copyOf(http);
    tcp = List.copyOf(tcp);
    errors = List.copyOf(errors);
  }

  /** The CUSTOM filters of {@code proxy}'s workload in {@code push}. */
  public static CustomAuthz of(
      dev.bowline.controlplane.model.Proxy proxy, dev.bowline.controlplane.model.PushContext push) {
    return build(
        push.authorizationPolicies(proxy), push.mesh(), push.registry(), push.trustDomains());
  }

  /**
   * The CUSTOM filters for {@code policies} (those selecting one workload; other actions are
   * skipped) with the providers of {@code mesh} resolved in {@code registry}.
   */
  public static CustomAuthz build(
      List<Resource<AuthorizationPolicy>> policies,
      MeshConfig mesh,
      RegistrySnapshot registry,
      List<String> trustDomains) {
    List<Resource<AuthorizationPolicy>> custom =
        policies.stream()
            .filter(p -> p.spec().action() == AuthorizationPolicy.Action.CUSTOM)
            .toList();
    if (custom.isEmpty()) {
      return NONE;
    }
    ExtAuthzProviders.Resolved provider =
        provider(custom, ExtAuthzProviders.resolve(mesh, registry));
    if (provider instanceof ExtAuthzProviders.Bad bad) {
      LOG.log(
          Level.WARNING,
          "event=authz_custom_invalid policies={0} effect=deny_all error=\"{1}\"",
          names(custom),
          String.join("; ", bad.errors()));
      return denyAll(bad.errors());
    }
    var built = (ExtAuthzProviders.Built) provider;
    RBAC httpRules = rules(custom, trustDomains, false);
    List<HttpFilter> http =
        List.of(
            rbacHttp(httpRules),
            HttpFilter.newBuilder()
                .setName(HTTP_EXT_AUTHZ)
                .setTypedConfig(Any.pack(built.http()))
                .build());
    List<Filter> tcp = List.of();
    if (built.tcp() != null) {
      var netRbac =
          io.envoyproxy
              .envoy
              .extensions
              .filters
              .network
              .rbac
              .v3
              .RBAC
              .newBuilder()
              .setStatPrefix(AuthzFilters.TCP_STAT_PREFIX)
              .setShadowRulesStatPrefix(ExtAuthzProviders.SHADOW_PREFIX);
      RBAC tcpRules = rules(custom, trustDomains, true);
      if (tcpRules != null) {
        netRbac.setShadowRules(tcpRules);
      }
      tcp =
          List.of(
              Filter.newBuilder()
                  .setName(AuthzFilters.NETWORK_RBAC)
                  .setTypedConfig(Any.pack(netRbac.build()))
                  .build(),
              Filter.newBuilder()
                  .setName(NETWORK_EXT_AUTHZ)
                  .setTypedConfig(Any.pack(built.tcp()))
                  .build());
    }
    return new CustomAuthz(http, tcp, List.of());
  }

  /**
   * istiod's {@code getExtAuthz}: every CUSTOM policy of a workload must name the same provider,
   * and it must be a usable ext_authz provider of the MeshConfig.
   */
  private static ExtAuthzProviders.Resolved provider(
      List<Resource<AuthorizationPolicy>> custom, Map<String, ExtAuthzProviders.Resolved> byName) {
    List<String> named = new ArrayList<>();
    for (var p : custom) {
      var pr = p.spec().provider();
      named.add(pr == null || pr.name() == null ? "" : pr.name());
    }
    if (named.stream().distinct().count() > 1) {
      return new ExtAuthzProviders.Bad(
          List.of(
              "AuthorizationPolicies "
                  + names(custom)
                  + ": spec.provider.name: only 1 provider can be used per workload, found"
                  + " multiple providers: "
                  + named));
    }
    String name = named.getFirst();
    Resource<AuthorizationPolicy> first = custom.getFirst();
    String where =
        "AuthorizationPolicy " + first.namespace() + "/" + first.name() + ": spec.provider.name: ";
    if (name.isEmpty()) {
      return new ExtAuthzProviders.Bad(List.of(where + "no provider specified"));
    }
    ExtAuthzProviders.Resolved r = byName.get(name);
    if (r == null) {
      return new ExtAuthzProviders.Bad(
          List.of(
              where
                  + "extension provider \""
                  + name
                  + "\" not found in MeshConfig extensionProviders (ext_authz providers: "
                  + byName.keySet()
                  + ")"));
    }
    if (r instanceof ExtAuthzProviders.Bad bad) {
      return new ExtAuthzProviders.Bad(
          List.of(where + "found errors in provider \"" + name + "\": " + bad.errors()));
    }
    return r;
  }

  /**
   * The CUSTOM rules, action DENY (istiod: so an HTTP-only rule is handled as a deny rule on TCP
   * chains: only its HTTP values are dropped); null when every policy is a dry run (istiod drops
   * dry-run CUSTOM rules).
   */
  private static @Nullable RBAC rules(
      List<Resource<AuthorizationPolicy>> custom, List<String> trustDomains, boolean forTcp) {
    RBAC.Builder rbac = RBAC.newBuilder().setAction(RBAC.Action.DENY);
    RuleModel model = new RuleModel(trustDomains, forTcp, RBAC.Action.DENY);
    boolean any = false;
    for (var p : custom) {
      if (Boolean.parseBoolean(p.annotations().get(AuthzFilters.DRY_RUN))) {
        continue;
      }
      any = true;
      var rules = p.spec().rules();
      for (int i = 0; i < rules.size(); i++) {
        String name = policyName(p, i);
        try {
          rbac.putPolicies(name, model.policy(rules.get(i)));
        } catch (RuleModel.HttpOnly e) {
          LOG.log(Level.DEBUG, "event=authz_rule_skipped rule={0} chain=tcp", name);
        } catch (IllegalArgumentException e) {
          LOG.log(
              Level.WARNING,
              "event=authz_rule_invalid rule={0} error=\"{1}\"",
              name,
              e.getMessage());
        }
      }
      if (rules.isEmpty()) {
        rbac.putPolicies(policyName(p, 0), AuthzFilters.MATCH_NEVER);
      }
    }
    return any ? rbac.build() : null;
  }

  /** istiod's CUSTOM policy name: {@code istio-ext-authz-ns[NS]-policy[NAME]-rule[i]}. */
  static String policyName(Resource<AuthorizationPolicy> p, int rule) {
    return ExtAuthzProviders.MATCH_PREFIX + "-" + AuthzFilters.policyName(p, rule);
  }

  private static HttpFilter rbacHttp(@Nullable RBAC shadow) {
    var rbac =
        io.envoyproxy
            .envoy
            .extensions
            .filters
            .http
            .rbac
            .v3
            .RBAC
            .newBuilder()
            .setShadowRulesStatPrefix(ExtAuthzProviders.SHADOW_PREFIX);
    if (shadow != null) {
      rbac.setShadowRules(shadow);
    }
    return HttpFilter.newBuilder()
        .setName(AuthzFilters.HTTP_RBAC)
        .setTypedConfig(Any.pack(rbac.build()))
        .build();
  }

  private static CustomAuthz denyAll(List<String> errors) {
    RBAC deny =
        RBAC.newBuilder()
            .setAction(RBAC.Action.DENY)
            .putPolicies(
                DENY_ALL,
                Policy.newBuilder()
                    .addPermissions(Permission.newBuilder().setAny(true))
                    .addPrincipals(Principal.newBuilder().setAny(true))
                    .build())
            .build();
    var http =
        HttpFilter.newBuilder()
            .setName(AuthzFilters.HTTP_RBAC)
            .setTypedConfig(
                Any.pack(
                    io.envoyproxy
                        .envoy
                        .extensions
                        .filters
                        .http
                        .rbac
                        .v3
                        .RBAC
                        .newBuilder()
                        .setRules(deny)
                        .build()))
            .build();
    var tcp =
        Filter.newBuilder()
            .setName(AuthzFilters.NETWORK_RBAC)
            .setTypedConfig(
                Any.pack(
                    io.envoyproxy
                        .envoy
                        .extensions
                        .filters
                        .network
                        .rbac
                        .v3
                        .RBAC
                        .newBuilder()
                        .setRules(deny)
                        .setStatPrefix(AuthzFilters.TCP_STAT_PREFIX)
                        .build()))
            .build();
    return new CustomAuthz(List.of(http), List.of(tcp), errors);
  }

  private static List<String> names(List<Resource<AuthorizationPolicy>> policies) {
    return policies.stream().map(r -> r.namespace() + "/" + r.name()).toList();
  }
}
