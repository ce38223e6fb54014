package dev.bowline.api.validation;

import dev.bowline.api.model.AuthorizationPolicy;
import dev.bowline.api.model.LabelSelector;
import dev.bowline.api.model.PeerAuthentication;
import dev.bowline.api.model.PolicyTargetReference;
import dev.bowline.api.model.RequestAuthentication;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** PeerAuthentication, RequestAuthentication and AuthorizationPolicy. */
final class SecurityRules {
  private SecurityRules() {}

  private static final Set<String> CONDITION_KEYS =
      Set.of(
          "source.ip",
          "remote.ip",
          "source.namespace",
          "source.principal",
          "source.serviceAccount",
          "request.auth.principal",
          "request.auth.audiences",
          "request.auth.presenter",
          "destination.ip",
          "destination.port",
          "connection.sni");

  static void selector(Report r, String at, @Nullable LabelSelector selector) {
    if (selector != null) {
      Checks.labels(r, at + ".matchLabels", selector.matchLabels());
    }
  }

  static void targets(
      Report r,
      @Nullable LabelSelector selector,
      @Nullable PolicyTargetReference targetRef,
      List<PolicyTargetReference> targetRefs) {
    if (targetRef != null && !targetRefs.isEmpty()) {
      r.error("spec.targetRef", "only one of targetRef and targetRefs may be set");
    }
    if (selector != null && (targetRef != null || !targetRefs.isEmpty())) {
      r.error("spec.selector", "only one of selector and targetRef(s) may be set");
    }
    if (targetRef != null) {
      target(r, "spec.targetRef", targetRef);
    }
    for (int i = 0; i < targetRefs.size(); i++) {
      target(r, "spec.targetRefs[" + i + "]", targetRefs.get(i));
    }
  }

  private static void target(Report r, String at, PolicyTargetReference t) {
    Checks.nonEmpty(r, at + ".kind", t.kind(), "kind");
    Checks.nonEmpty(r, at + ".name", t.name(), "name");
    if (t.namespace() != null && !t.namespace().isEmpty()) {
      r.error(at + ".namespace", "cross-namespace target references are not supported");
    }
  }

  static void checkPeerAuthentication(Report r, PeerAuthentication pa) {
    selector(r, "spec.selector", pa.selector());
    if (!pa.portLevelMtls().isEmpty()
        && (pa.selector() == null || pa.selector().matchLabels().isEmpty())) {
      r.error("spec.portLevelMtls", "portLevelMtls needs a workload selector");
    }
    pa.portLevelMtls()
        .forEach(
            (port, mtls) -> {
              try {
                Checks.port(r, "spec.portLevelMtls." + port, Integer.parseInt(port));
              } catch (NumberFormatException e) {
                r.error("spec.portLevelMtls." + port, "\"" + port + "\" is not a port number");
              }
            });
  }

  static void checkRequestAuthentication(Report r, RequestAuthentication ra) {
    selector(r, "spec.selector", ra.selector());
    targets(r, ra.selector(), ra.targetRef(), ra.targetRefs());
    for (int i = 0; i < ra.jwtRules().size(); i++) {
      var rule = ra.jwtRules().get(i);
      String at = "spec.jwtRules[" + i + "]";
      Checks.nonEmpty(r, at + ".issuer", rule.issuer(), "issuer");
      if (rule.jwksUri() != null && !rule.jwksUri().isEmpty()) {
        try {
          URI uri = new URI(rule.jwksUri());
          if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
              || uri.getHost() == null) {
            r.error(at + ".jwksUri", "\"" + rule.jwksUri() + "\" is not an http(s) URL");
          }
        } catch (URISyntaxException e) {
          r.error(at + ".jwksUri", "\"" + rule.jwksUri() + "\" is not an http(s) URL");
        }
      }
      if (rule.jwks() != null && !rule.jwks().strip().startsWith("{")) {
        r.error(at + ".jwks", "jwks must be a JSON Web Key Set");
      }
      for (int j = 0; j < rule.audiences().size(); j++) {
        if (rule.audiences().get(j).isEmpty()) {
          r.error(at + ".audiences[" + j + "]", "audience must not be empty");
        }
      }
      for (int j = 0; j < rule.fromHeaders().size(); j++) {
        var h = rule.fromHeaders().get(j);
        if (h.name() == null || h.name().isEmpty()) {
          r.error(at + ".fromHeaders[" + j + "].name", "header name is required");
        }
      }
      for (int j = 0; j < rule.fromParams().size(); j++) {
        if (rule.fromParams().get(j).isEmpty()) {
          r.error(at + ".fromParams[" + j + "]", "parameter name must not be empty");
        }
      }
      for (int j = 0; j < rule.fromCookies().size(); j++) {
        if (rule.fromCookies().get(j).isEmpty()) {
          r.error(at + ".fromCookies[" + j + "]", "cookie name must not be empty");
        }
      }
      for (int j = 0; j < rule.outputClaimToHeaders().size(); j++) {
        var c = rule.outputClaimToHeaders().get(j);
        String cat = at + ".outputClaimToHeaders[" + j + "]";
        Checks.headerName(r, cat + ".header", c.header() == null ? "" : c.header());
        Checks.nonEmpty(r, cat + ".claim", c.claim(), "claim");
      }
      if (rule.timeout() != null) {
        Checks.duration(r, at + ".timeout", rule.timeout());
      }
    }
  }

  static void checkAuthorizationPolicy(Report r, AuthorizationPolicy ap) {
    selector(r, "spec.selector", ap.selector());
    targets(r, ap.selector(), ap.targetRef(), ap.targetRefs());
    var action = ap.action() == null ? AuthorizationPolicy.Action.ALLOW : ap.action();
    if (action == AuthorizationPolicy.Action.CUSTOM) {
      if (ap.provider() == null || ap.provider().name() == null || ap.provider().name().isEmpty()) {
        r.error("spec.provider", "action CUSTOM needs a provider name");
      }
      if (ap.rules().isEmpty()) {
        r.error("spec.rules", "action CUSTOM without rules never triggers");
      }
    } else if (ap.provider() != null) {
      r.error("spec.provider", "provider is only allowed with action CUSTOM");
    }
    if (action == AuthorizationPolicy.Action.AUDIT && ap.rules().isEmpty()) {
      r.warn("spec.rules", "action AUDIT without rules audits nothing");
    }
    for (int i = 0; i < ap.rules().size(); i++) {
      var rule = ap.rules().get(i);
      String at = "spec.rules[" + i + "]";
      for (int j = 0; j < rule.from().size(); j++) {
        var src = rule.from().get(j).source();
        String fat = at + ".from[" + j + "].source";
        if (src == null) {
          r.error(fat, "source must not be empty");
          continue;
        }
        int fields = 0;
        for (List<String> l :
            List.of(
                src.principals(),
                src.notPrincipals(),
                src.requestPrincipals(),
                src.notRequestPrincipals(),
                src.namespaces(),
                src.notNamespaces(),
                src.ipBlocks(),
                src.notIpBlocks(),
                src.remoteIpBlocks(),
                src.notRemoteIpBlocks(),
                src.serviceAccounts(),
                src.notServiceAccounts())) {
          fields += l.size();
        }
        if (fields == 0) {
          r.error(fat, "source must not be empty");
        }
        cidrs(r, fat + ".ipBlocks", src.ipBlocks());
        cidrs(r, fat + ".notIpBlocks", src.notIpBlocks());
        cidrs(r, fat + ".remoteIpBlocks", src.remoteIpBlocks());
        cidrs(r, fat + ".notRemoteIpBlocks", src.notRemoteIpBlocks());
        if (!src.serviceAccounts().isEmpty()
            && (!src.principals().isEmpty() || !src.namespaces().isEmpty())) {
          r.error(fat + ".serviceAccounts", "cannot be set together with principals or namespaces");
        }
        for (int k = 0; k < src.serviceAccounts().size(); k++) {
          if (!src.serviceAccounts().get(k).contains("/")) {
            r.error(fat + ".serviceAccounts[" + k + "]", "must be of the form namespace/name");
          }
        }
        nonEmptyValues(r, fat + ".principals", src.principals());
        nonEmptyValues(r, fat + ".namespaces", src.namespaces());
      }
      for (int j = 0; j < rule.to().size(); j++) {
        var op = rule.to().get(j).operation();
        String tat = at + ".to[" + j + "].operation";
        if (op == null
            || op.hosts().isEmpty()
                && op.notHosts().isEmpty()
                && op.ports().isEmpty()
                && op.notPorts().isEmpty()
                && op.methods().isEmpty()
                && op.notMethods().isEmpty()
                && op.paths().isEmpty()
                && op.notPaths().isEmpty()) {
          r.error(tat, "operation must not be empty");
          continue;
        }
        ports(r, tat + ".ports", op.ports());
        ports(r, tat + ".notPorts", op.notPorts());
        paths(r, tat + ".paths", op.paths());
        paths(r, tat + ".notPaths", op.notPaths());
        nonEmptyValues(r, tat + ".hosts", op.hosts());
        nonEmptyValues(r, tat + ".methods", op.methods());
      }
      for (int j = 0; j < rule.when().size(); j++) {
        var c = rule.when().get(j);
        String wat = at + ".when[" + j + "]";
        String key = c.key() == null ? "" : c.key();
        if (key.isEmpty()) {
          r.error(wat + ".key", "key is required");
        } else if (!CONDITION_KEYS.contains(key)
            && !bracketed(key, "request.headers")
            && !bracketed(key, "request.auth.claims")
            && !key.startsWith("experimental.envoy.filters.")) {
          r.error(wat + ".key", "unknown attribute \"" + key + "\"");
        }
        if (key.startsWith("experimental.envoy.filters.")
            && !key.matches("experimental\\.envoy\\.filters\\.[^\\[\\]]+\\[[^\\[\\]]+\\]")) {
          r.error(
              wat + ".key",
              "\""
                  + key
                  + "\" must be of the form experimental.envoy.filters.<filter name>[<metadata key>]");
        }
        if (c.values().isEmpty() && c.notValues().isEmpty()) {
          r.error(wat, "at least one of values or notValues must be set");
        }
        if (key.equals("destination.port")) {
          ports(r, wat + ".values", c.values());
          ports(r, wat + ".notValues", c.notValues());
        }
        if (key.equals("source.ip") || key.equals("remote.ip") || key.equals("destination.ip")) {
          cidrs(r, wat + ".values", c.values());
          cidrs(r, wat + ".notValues", c.notValues());
        }
      }
    }
  }

  private static boolean bracketed(String key, String prefix) {
    return key.startsWith(prefix + "[") && key.endsWith("]") && key.length() > prefix.length() + 2;
  }

  private static void cidrs(Report r, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      Checks.ipOrCidr(r, at + "[" + i + "]", values.get(i));
    }
  }

  private static void ports(Report r, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      try {
        Checks.port(r, at + "[" + i + "]", Integer.parseInt(values.get(i)));
      } catch (NumberFormatException e) {
        r.error(at + "[" + i + "]", "\"" + values.get(i) + "\" is not a port number");
      }
    }
  }

  private static void paths(Report r, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String p = values.get(i);
      if (p.isEmpty()) {
        r.error(at + "[" + i + "]", "path must not be empty");
      } else if (p.contains("{") || p.contains("}")) {
        if (!p.startsWith("/")) {
          r.error(at + "[" + i + "]", "path template \"" + p + "\" must start with /");
        }
      } else if (p.indexOf('*') > 0 && p.indexOf('*') < p.length() - 1
          || p.indexOf('*') != p.lastIndexOf('*') && !p.equals("*")) {
        r.error(
            at + "[" + i + "]",
            "wildcard * is only allowed at the start or end of path \"" + p + "\"");
      }
    }
  }

  private static void nonEmptyValues(Report r, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      if (values.get(i).isEmpty()) {
        r.error(at + "[" + i + "]", "must not be empty");
      }
    }
  }
}
