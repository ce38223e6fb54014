package dev.bowline.controlplane.xds.gen.authz;

import dev.bowline.api.model.AuthorizationPolicy;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One AuthorizationPolicy rule as one Envoy RBAC policy, istiod's {@code authz/model}: each {@code
 * from} becomes an AND of principals (its fields, then the {@code when} conditions on the source),
 * each {@code to} an AND of permissions (its fields, then the {@code when} conditions on the
 * destination); the lists are OR'ed. A key's values are OR'ed, its {@code not} values negated.
 *
 * <p>On a TCP chain the HTTP-only fields cannot be evaluated: in an ALLOW policy such a rule is
 * dropped (it allows less), in DENY and AUDIT only the HTTP-only values are (the rule denies more),
 * as Istio documents.
 */
final class RuleModel {
  /** The dynamic metadata the request authentication filters leave (the JWT helper's contract). */
  static final String AUTHN_FILTER = "istio_authn";

  static final String SPIFFE = "spiffe://";

  /** Thrown for an HTTP-only value in an ALLOW rule on a TCP chain: the rule is dropped. */
  static final class HttpOnly extends Exception {
    HttpOnly(String key) {
      super("\"" + key + "\" is HTTP only", null, false, false);
    }
  }

  private final List<String> trustDomains;
  private final boolean forTcp;
  private final RBAC.Action action;

  /** {@code trustDomains}: the mesh's trust domain, then its aliases. */
  RuleModel(List<String> trustDomains, boolean forTcp, RBAC.Action action) {
    this.trustDomains = List.copyOf(trustDomains);
    this.forTcp = forTcp;
    this.action = action;
  }

  /** One key of a rule: its values and not-values and how one value becomes a matcher. */
  private record Key<T>(
      String name, List<String> values, List<String> notValues, Gen<T> gen, boolean httpOnly) {}

  @FunctionalInterface
  private interface Gen<T> {
    T of(String value);
  }

  Policy policy(AuthorizationPolicy.Rule rule) throws HttpOnly {
    List<Key<Principal>> basePrincipals = new ArrayList<>();
    List<Key<Permission>> basePermissions = new ArrayList<>();
    for (var when : rule.when()) {
      String k = when.key() == null ? "" : when.key();
      List<String> v = when.values();
      List<String> nv = when.notValues();
      switch (k) {
        case "destination.ip" -> basePermissions.add(new Key<>(k, v, nv, this::destIp, false));
        case "destination.port" -> basePermissions.add(new Key<>(k, v, nv, this::destPort, false));
        case "connection.sni" -> basePermissions.add(new Key<>(k, v, nv, this::sni, false));
        case "source.ip" -> basePrincipals.add(new Key<>(k, v, nv, this::srcIp, false));
        case "remote.ip" -> basePrincipals.add(new Key<>(k, v, nv, this::remoteIp, false));
        case "source.namespace" -> basePrincipals.add(new Key<>(k, v, nv, this::namespace, false));
        case "source.principal" ->
            basePrincipals.add(
                new Key<>(k, withAliases(v), withAliases(nv), this::principal, false));
        case "source.serviceAccount" ->
            basePrincipals.add(new Key<>(k, v, nv, this::serviceAccount, false));
        case "request.auth.principal" ->
            basePrincipals.add(new Key<>(k, v, nv, this::requestPrincipal, true));
        case "request.auth.audiences" ->
            basePrincipals.add(new Key<>(k, v, nv, x -> authnListOrString(k, x), true));
        case "request.auth.presenter" ->
            basePrincipals.add(new Key<>(k, v, nv, x -> authnListOrString(k, x), true));
        default -> {
          if (k.startsWith("request.headers[")) {
            String header = inBrackets(k, "request.headers").getFirst();
            basePrincipals.add(
                new Key<>(
                    k,
                    v,
                    nv,
                    x -> Principal.newBuilder().setHeader(IstioMatchers.header(header, x)).build(),
                    true));
          } else if (k.startsWith("request.auth.claims[")) {
            List<String> path = new ArrayList<>();
            path.add("request.auth.claims");
            path.addAll(inBrackets(k, "request.auth.claims"));
            basePrincipals.add(
                new Key<>(
                    k,
                    v,
                    nv,
                    x ->
                        Principal.newBuilder()
                            .setMetadata(
                                IstioMatchers.metadata(
                                    AUTHN_FILTER,
                                    path,
                                    IstioMatchers.listOneOf(IstioMatchers.string(x))))
                            .build(),
                    true));
          } else if (k.startsWith("experimental.envoy.filters.")) {
            basePermissions.add(new Key<>(k, v, nv, x -> envoyFilter(k, x), false));
          } else {
            // validation refuses unknown keys; a rule with one is never generated
            throw new IllegalArgumentException("unknown attribute " + k);
          }
        }
      }
    }
    List<Principal> principals = new ArrayList<>();
    for (var from : rule.from()) {
      List<Key<Principal>> keys = new ArrayList<>();
      var s = from.source();
      if (s != null) {
        keys.add(
            new Key<>(
                "serviceAccounts",
                s.serviceAccounts(),
                s.notServiceAccounts(),
                this::serviceAccount,
                false));
        keys.add(
            new Key<>(
                "principals",
                withAliases(s.principals()),
                withAliases(s.notPrincipals()),
                this::principal,
                false));
        keys.add(
            new Key<>(
                "requestPrincipals",
                s.requestPrincipals(),
                s.notRequestPrincipals(),
                this::requestPrincipal,
                true));
        keys.add(
            new Key<>("namespaces", s.namespaces(), s.notNamespaces(), this::namespace, false));
        keys.add(
            new Key<>(
                "remoteIpBlocks",
                s.remoteIpBlocks(),
                s.notRemoteIpBlocks(),
                this::remoteIp,
                false));
        keys.add(new Key<>("ipBlocks", s.ipBlocks(), s.notIpBlocks(), this::srcIp, false));
      }
      keys.addAll(basePrincipals);
      principals.add(principalAnd(keys));
    }
    if (rule.from().isEmpty()) {
      principals.add(principalAnd(basePrincipals));
    }
    List<Permission> permissions = new ArrayList<>();
    for (var to : rule.to()) {
      List<Key<Permission>> keys = new ArrayList<>();
      var o = to.operation();
      if (o != null) {
        keys.add(new Key<>("hosts", o.hosts(), o.notHosts(), this::host, true));
        keys.add(new Key<>("methods", o.methods(), o.notMethods(), this::method, true));
        keys.add(new Key<>("paths", o.paths(), o.notPaths(), this::path, true));
        keys.add(new Key<>("ports", o.ports(), o.notPorts(), this::destPort, false));
      }
      keys.addAll(basePermissions);
      permissions.add(permissionAnd(keys));
    }
    if (rule.to().isEmpty()) {
      permissions.add(permissionAnd(basePermissions));
    }
    return Policy.newBuilder().addAllPermissions(permissions).addAllPrincipals(principals).build();
  }

  /** Whether the key's values are generated here; false: they are dropped (TCP, DENY/AUDIT). */
  private boolean usable(Key<?> k) throws HttpOnly {
    if (!k.httpOnly() || !forTcp) {
      return true;
    }
    if (action == RBAC.Action.ALLOW) {
      throw new HttpOnly(k.name());
    }
    return false;
  }

  private <T> List<T> generate(Key<T> k, Function<List<T>, T> or, Function<T, T> not)
      throws HttpOnly {
    List<T> out = new ArrayList<>(2);
    if (k.values().isEmpty() && k.notValues().isEmpty() || !usable(k)) {
      return out;
    }
    if (!k.values().isEmpty()) {
      List<T> any = new ArrayList<>();
      for (String v : k.values()) {
        any.add(k.gen().of(v));
      }
      out.add(or.apply(any));
    }
    if (!k.notValues().isEmpty()) {
      List<T> any = new ArrayList<>();
      for (String v : k.notValues()) {
        any.add(k.gen().of(v));
      }
      out.add(not.apply(or.apply(any)));
    }
    return out;
  }

  private Principal principalAnd(List<Key<Principal>> keys) throws HttpOnly {
    List<Principal> and = new ArrayList<>();
    for (var k : keys) {
      and.addAll(
          generate(
              k,
              l -> Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(l)).build(),
              p -> Principal.newBuilder().setNotId(p).build()));
    }
    if (and.isEmpty()) {
      and.add(Principal.newBuilder().setAny(true).build());
    }
    return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(and)).build();
  }

  private Permission permissionAnd(List<Key<Permission>> keys) throws HttpOnly {
    List<Permission> and = new ArrayList<>();
    for (var k : keys) {
      and.addAll(
          generate(
              k,
              l ->
                  Permission.newBuilder()
                      .setOrRules(Permission.Set.newBuilder().addAllRules(l))
                      .build(),
              p -> Permission.newBuilder().setNotRule(p).build()));
    }
    if (and.isEmpty()) {
      and.add(Permission.newBuilder().setAny(true).build());
    }
    return Permission.newBuilder()
        .setAndRules(Permission.Set.newBuilder().addAllRules(and))
        .build();
  }

  // ---- one value to one matcher

  private Principal authenticated(io.envoyproxy.envoy.type.matcher.v3.StringMatcher m) {
    return Principal.newBuilder()
        .setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(m))
        .build();
  }

  /**
   * istiod's {@code ReplaceTrustDomainAliases}: a principal {@code <td>/ns/<ns>/sa/<sa>} whose
   * trust domain is the mesh's, one of its aliases or {@code cluster.local} stands for the same
   * identity in every one of them (the mesh's first); other principals, and those that do not name
   * a trust domain ({@code *}, prefixes, other shapes), are kept as written.
   */
  List<String> withAliases(List<String> principals) {
    List<String> out = new ArrayList<>(principals.size());
    for (String p : principals) {
      String[] parts = p.split("/", -1);
      if (parts.length != 5 || parts[0].startsWith("*")) {
        add(out, p);
        continue;
      }
      String td = parts[0];
      if (!td.equals("cluster.local") && !trustDomains.contains(td)) {
        add(out, p); // a foreign trust domain: as written
        continue;
      }
      for (String each : trustDomains) {
        add(out, each + p.substring(td.length()));
      }
    }
    return out;
  }

  private static void add(List<String> out, String v) {
    if (!out.contains(v)) {
      out.add(v);
    }
  }

  private Principal principal(String v) {
    return authenticated(IstioMatchers.string(v, SPIFFE));
  }

  private Principal serviceAccount(String v) {
    int slash = v.indexOf('/');
    String ns = slash < 0 ? "" : v.substring(0, slash);
    String sa = v.substring(slash + 1);
    return authenticated(
        IstioMatchers.regex("spiffe://.+/ns/" + ns + "/(.+/|)sa/" + sa + "(/.+)?"));
  }

  private Principal namespace(String v) {
    return authenticated(IstioMatchers.regex(".*/ns/" + v.replace("*", ".*") + "/.*"));
  }

  private Principal srcIp(String v) {
    return Principal.newBuilder().setDirectRemoteIp(IstioMatchers.cidr(v)).build();
  }

  private Principal remoteIp(String v) {
    return Principal.newBuilder().setRemoteIp(IstioMatchers.cidr(v)).build();
  }

  private Principal requestPrincipal(String v) {
    return Principal.newBuilder()
        .setMetadata(
            IstioMatchers.metadata(
                AUTHN_FILTER,
                List.of("request.auth.principal"),
                IstioMatchers.stringValue(IstioMatchers.string(v))))
        .build();
  }

  private Principal authnListOrString(String key, String v) {
    return Principal.newBuilder()
        .setMetadata(
            IstioMatchers.metadata(
                AUTHN_FILTER,
                List.of(key),
                IstioMatchers.stringOrListOneOf(IstioMatchers.string(v))))
        .build();
  }

  private Permission host(String v) {
    return Permission.newBuilder().setHeader(IstioMatchers.host(v)).build();
  }

  private Permission method(String v) {
    return Permission.newBuilder().setHeader(IstioMatchers.header(":method", v)).build();
  }

  private Permission path(String v) {
    return Permission.newBuilder().setUrlPath(IstioMatchers.path(v)).build();
  }

  private Permission destPort(String v) {
    return Permission.newBuilder().setDestinationPort(Integer.parseInt(v.trim())).build();
  }

  private Permission destIp(String v) {
    return Permission.newBuilder().setDestinationIp(IstioMatchers.cidr(v)).build();
  }

  private Permission sni(String v) {
    return Permission.newBuilder().setRequestedServerName(IstioMatchers.string(v)).build();
  }

  /** {@code experimental.envoy.filters.a.b[key]}: metadata of {@code envoy.filters.a.b}. */
  private Permission envoyFilter(String key, String v) {
    String rest = key.substring("experimental.".length());
    int open = rest.indexOf('[');
    if (open < 0 || !rest.endsWith("]")) {
      throw new IllegalArgumentException("invalid key " + key);
    }
    String filter = rest.substring(0, open);
    String field = rest.substring(open + 1, rest.length() - 1);
    var value =
        v.startsWith("[") && v.endsWith("]")
            ? IstioMatchers.listOneOf(IstioMatchers.string(v.substring(1, v.length() - 1)))
            : IstioMatchers.stringValue(IstioMatchers.string(v));
    return Permission.newBuilder()
        .setMetadata(IstioMatchers.metadata(filter, List.of(field), value))
        .build();
  }

  /** {@code prefix[a][b]} to {@code [a, b]}. */
  static List<String> inBrackets(String key, String prefix) {
    String rest = key.substring(prefix.length());
    List<String> out = new ArrayList<>();
    while (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0) {
        break;
      }
      out.add(rest.substring(1, close));
      rest = rest.substring(close + 1);
    }
    if (out.isEmpty() || !rest.isEmpty()) {
      throw new IllegalArgumentException("invalid key " + key);
    }
    return out;
  }
}
