package dev.bowline.api.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** security.istio.io AuthorizationPolicy: allow, deny, audit or delegate (CUSTOM) requests. */
public record AuthorizationPolicy(
    @Nullable LabelSelector selector,
    @Nullable PolicyTargetReference targetRef,
    List<PolicyTargetReference> targetRefs,
    List<Rule> rules,
    @Nullable Action action,
    @Nullable ExtensionProvider provider)
    implements Spec {
  public AuthorizationPolicy {
    targetRefs = Freeze.list(targetRefs);
    rules = Freeze.list(rules);
  }

  /** The policy's action; ALLOW when unset. */
  public enum Action {
    ALLOW,
    DENY,
    AUDIT,
    CUSTOM
  }

  /** The external authorizer of a CUSTOM policy, named in MeshConfig's extensionProviders. */
  public record ExtensionProvider(@Nullable String name) {}

  /** Matches a request when from, to and when all match. */
  public record Rule(List<From> from, List<To> to, List<Condition> when) {
    public Rule {
      from = Freeze.list(from);
      to = Freeze.list(to);
      when = Freeze.list(when);
    }

    /** Request sources. */
    public record From(@Nullable Source source) {}

    /** Request operations. */
    public record To(@Nullable Operation operation) {}
  }

  /** Who sends the request. */
  public record Source(
      List<String> principals,
      List<String> notPrincipals,
      List<String> requestPrincipals,
      List<String> notRequestPrincipals,
      List<String> namespaces,
      List<String> notNamespaces,
      List<String> ipBlocks,
      List<String> notIpBlocks,
      List<String> remoteIpBlocks,
      List<String> notRemoteIpBlocks,
      List<String> serviceAccounts,
      List<String> notServiceAccounts) {
    public Source {
      principals = Freeze.list(principals);
      notPrincipals = Freeze.list(notPrincipals);
      requestPrincipals = Freeze.list(requestPrincipals);
      notRequestPrincipals = Freeze.list(notRequestPrincipals);
      namespaces = Freeze.list(namespaces);
      notNamespaces = Freeze.list(notNamespaces);
      ipBlocks = Freeze.list(ipBlocks);
      notIpBlocks = Freeze.list(notIpBlocks);
      remoteIpBlocks = Freeze.list(remoteIpBlocks);
      notRemoteIpBlocks = Freeze.list(notRemoteIpBlocks);
      serviceAccounts = Freeze.list(serviceAccounts);
      notServiceAccounts = Freeze.list(notServiceAccounts);
    }
  }

  /** What the request does. */
  public record Operation(
      List<String> hosts,
      List<String> notHosts,
      List<String> ports,
      List<String> notPorts,
      List<String> methods,
      List<String> notMethods,
      List<String> paths,
      List<String> notPaths) {
    public Operation {
      hosts = Freeze.list(hosts);
      notHosts = Freeze.list(notHosts);
      ports = Freeze.list(ports);
      notPorts = Freeze.list(notPorts);
      methods = Freeze.list(methods);
      notMethods = Freeze.list(notMethods);
      paths = Freeze.list(paths);
      notPaths = Freeze.list(notPaths);
    }
  }

  /** An extra condition on a request attribute ({@code key}). */
  public record Condition(@Nullable String key, List<String> values, List<String> notValues) {
    public Condition {
      values = Freeze.list(values);
      notValues = Freeze.list(notValues);
    }
  }
}
