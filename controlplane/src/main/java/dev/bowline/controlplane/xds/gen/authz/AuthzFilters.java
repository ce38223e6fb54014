package dev.bowline.controlplane.xds.gen.authz;

import com.google.protobuf.Any;
import dev.bowline.api.Resource;
import dev.bowline.api.model.AuthorizationPolicy;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * The RBAC filters of one workload, as istiod 1.16 builds them from the AuthorizationPolicies that
 * select it: AUDIT (action LOG), DENY, ALLOW, one filter per action present (CUSTOM policies are
 * {@link CustomAuthz}'s, which istiod puts before request authentication). An ALLOW policy without
 * rules allows nothing; no ALLOW policy allows everything; a policy with {@code istio.io/dry-run:
 * "true"} goes to the shadow rules.
 *
 * @param http the HTTP filters for inbound HTTP chains and gateways ({@code
 *     envoy.filters.http.rbac})
 * @param tcp the network filters for inbound TCP chains ({@code envoy.filters.network.rbac})
 */
public record AuthzFilters(List<HttpFilter> http, List<Filter> tcp) {
  private static final System.Logger LOG = System.getLogger(AuthzFilters.class.getName());

  public static final String HTTP_RBAC = "envoy.filters.http.rbac";
  public static final String NETWORK_RBAC = "envoy.filters.network.rbac";

  /** Istio's stat prefix of the network RBAC filter. */
  static final String TCP_STAT_PREFIX = "tcp.";

  static final String DRY_RUN = "istio.io/dry-run";

  /** No policy: no filter. */
  public static final AuthzFilters NONE = new AuthzFilters(List.of(), List.of());

  public AuthzFilters {
    http = List.copyOf(http);
    tcp = List.copyOf(tcp);
  }

  /** Istio's policy that never matches (an allow-nothing or deny-nothing policy's only entry). */
  static final Policy MATCH_NEVER =
      Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setNotRule(Permission.newBuilder().setAny(true)))
          .addPrincipals(Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)))
          .build();

  /** The filters for {@code policies} (those selecting one workload) in {@code trustDomain}. */
  public static AuthzFilters build(
      List<Resource<AuthorizationPolicy>> policies, String trustDomain) {
    return build(policies, List.of(trustDomain));
  }

  /**
   * The filters for {@code policies} (those selecting one workload); {@code trustDomain} is the
   * mesh's trust domain followed by its {@code trustDomainAliases}: a principal in any of them (or
   * in {@code cluster.local}) matches its peers in all of them, as istiod expands it.
   */
  public static AuthzFilters build(
      List<Resource<AuthorizationPolicy>> policies, List<String> trustDomain) {
    if (policies.isEmpty()) {
      return NONE;
    }
    List<Resource<AuthorizationPolicy>> audit = new ArrayList<>();
    List<Resource<AuthorizationPolicy>> deny = new ArrayList<>();
    List<Resource<AuthorizationPolicy>> allow = new ArrayList<>();
    for (var p : policies) {
      var action = p.spec().action() == null ? AuthorizationPolicy.Action.ALLOW : p.spec().action();
      switch (action) {
        case CUSTOM -> {} // CustomAuthz
        case AUDIT -> audit.add(p);
        case DENY -> deny.add(p);
        case ALLOW -> allow.add(p);
      }
    }
    List<HttpFilter> http = new ArrayList<>();
    List<Filter> tcp = new ArrayList<>();
    // CUSTOM policies: CustomAuthz (ext_authz), which goes before request authentication
    addFilters(audit, RBAC.Action.LOG, trustDomain, http, tcp, false);
    addFilters(deny, RBAC.Action.DENY, trustDomain, http, tcp, false);
    addFilters(allow, RBAC.Action.ALLOW, trustDomain, http, tcp, false);
    return new AuthzFilters(http, tcp);
  }

  private static void addFilters(
      List<Resource<AuthorizationPolicy>> policies,
      RBAC.Action action,
      List<String> trustDomain,
      List<HttpFilter> http,
      List<Filter> tcp,
      boolean enforceOnly) {
    if (policies.isEmpty()) {
      return;
    }
    Rules h = rules(policies, action, trustDomain, false, enforceOnly);
    var httpRbac =
        io.envoyproxy
            .envoy
            .extensions
            .filters
            .http
            .rbac
            .v3
            .RBAC
            .newBuilder()
            .setShadowRulesStatPrefix(shadowStatPrefix(h.shadow()));
    if (h.enforce() != null) {
      httpRbac.setRules(h.enforce());
    }
    if (h.shadow() != null) {
      httpRbac.setShadowRules(h.shadow());
    }
    http.add(
        HttpFilter.newBuilder()
            .setName(HTTP_RBAC)
            .setTypedConfig(Any.pack(httpRbac.build()))
            .build());
    Rules t = rules(policies, action, trustDomain, true, enforceOnly);
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
            .setStatPrefix(TCP_STAT_PREFIX)
            .setShadowRulesStatPrefix(shadowStatPrefix(t.shadow()));
    if (t.enforce() != null) {
      netRbac.setRules(t.enforce());
    }
    if (t.shadow() != null) {
      netRbac.setShadowRules(t.shadow());
    }
    tcp.add(
        Filter.newBuilder()
            .setName(NETWORK_RBAC)
            .setTypedConfig(Any.pack(netRbac.build()))
            .build());
  }

  /** Istio's prefix: by the shadow rules' action, ALLOW's when there are none (Go's nil getter). */
  private static String shadowStatPrefix(@org.jspecify.annotations.Nullable RBAC shadow) {
    return shadow != null && shadow.getAction() == RBAC.Action.DENY
        ? "istio_dry_run_deny_"
        : shadow != null && shadow.getAction() == RBAC.Action.LOG ? "" : "istio_dry_run_allow_";
  }

  private record Rules(
      @org.jspecify.annotations.Nullable RBAC enforce,
      @org.jspecify.annotations.Nullable RBAC shadow) {}

  private static Rules rules(
      List<Resource<AuthorizationPolicy>> policies,
      RBAC.Action action,
      List<String> trustDomain,
      boolean forTcp,
      boolean enforceOnly) {
    RBAC.Builder enforce = RBAC.newBuilder().setAction(action);
    RBAC.Builder shadow = RBAC.newBuilder().setAction(action);
    boolean hasEnforce = false;
    boolean hasShadow = false;
    RuleModel model = new RuleModel(trustDomain, forTcp, action);
    for (var p : policies) {
      boolean dryRun = !enforceOnly && Boolean.parseBoolean(p.annotations().get(DRY_RUN));
      RBAC.Builder target = dryRun ? shadow : enforce;
      if (dryRun) {
        hasShadow = true;
      } else {
        hasEnforce = true;
      }
      var rules = p.spec().rules();
      for (int i = 0; i < rules.size(); i++) {
        String name = policyName(p, i);
        try {
          target.putPolicies(name, model.policy(rules.get(i)));
        } catch (RuleModel.HttpOnly e) {
          LOG.log(
              Level.DEBUG,
              "event=authz_rule_skipped rule={0} chain=tcp reason=\"{1}\"",
              name,
              e.getMessage());
        } catch (IllegalArgumentException e) {
          LOG.log(
              Level.WARNING,
              "event=authz_rule_invalid rule={0} error=\"{1}\"",
              name,
              e.getMessage());
        }
      }
      if (rules.isEmpty()) {
        target.putPolicies(policyName(p, 0), MATCH_NEVER);
      }
    }
    return new Rules(hasEnforce ? enforce.build() : null, hasShadow ? shadow.build() : null);
  }

  /** istiod's policy name: {@code ns[NS]-policy[NAME]-rule[i]}. */
  static String policyName(Resource<AuthorizationPolicy> p, int rule) {
    return "ns[" + p.namespace() + "]-policy[" + p.name() + "]-rule[" + rule + "]";
  }
}
