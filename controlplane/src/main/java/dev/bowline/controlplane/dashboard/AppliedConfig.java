package dev.bowline.controlplane.dashboard;

import dev.bowline.api.Resource;
import dev.bowline.api.model.AuthorizationPolicy;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.EnvoyFilter;
import dev.bowline.api.model.Gateway;
import dev.bowline.api.model.LabelSelector;
import dev.bowline.api.model.PeerAuthentication;
import dev.bowline.api.model.RequestAuthentication;
import dev.bowline.api.model.Sidecar;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.WasmPlugin;
import dev.bowline.api.model.WorkloadSelector;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.registry.Hostnames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The Istio resources that apply to one workload, each with why: the policies whose selector picks
 * it (or that cover its namespace or, from the root namespace, the whole mesh), the Gateways that
 * select it, and the VirtualServices and DestinationRules of its own services and of the services
 * it calls.
 */
final class AppliedConfig {
  private AppliedConfig() {}

  /** One resource and why it applies. */
  record Applied(String kind, String namespace, String name, String why) {}

  /**
   * The workload to explain.
   *
   * @param services hostnames of the services it is an endpoint of
   * @param calls hostnames of the services it calls (from the graph)
   */
  record Subject(
      String namespace, Map<String, String> labels, Set<String> services, Set<String> calls) {}

  static List<Applied> of(
      ConfigSnapshot config, Subject w, String rootNamespace, String domainSuffix) {
    List<Applied> out = new ArrayList<>();
    List<String> boundGateways = new ArrayList<>();
    for (Resource<?> r : config.resources().values()) {
      String why =
          switch (r.spec()) {
            case Sidecar s -> selected(r, w, rootNamespace, labels(s.workloadSelector()));
            case PeerAuthentication p -> selected(r, w, rootNamespace, labels(p.selector()));
            case AuthorizationPolicy a -> selected(r, w, rootNamespace, labels(a.selector()));
            case RequestAuthentication a -> selected(r, w, rootNamespace, labels(a.selector()));
            case Telemetry t -> selected(r, w, rootNamespace, labels(t.selector()));
            case EnvoyFilter e -> selected(r, w, rootNamespace, labels(e.workloadSelector()));
            case WasmPlugin p -> selected(r, w, rootNamespace, labels(p.selector()));
            case Gateway g -> {
              if (!g.selector().isEmpty() && matches(g.selector(), w.labels())) {
                boundGateways.add(r.namespace() + "/" + r.name());
                yield "selects it " + g.selector();
              }
              yield null;
            }
            default -> null;
          };
      if (why != null) {
        out.add(new Applied(r.kind().toString(), r.namespace(), r.name(), why));
      }
    }
    for (Resource<?> r : config.resources().values()) {
      String why =
          switch (r.spec()) {
            case VirtualService vs -> virtualService(r, vs, w, boundGateways, domainSuffix);
            case DestinationRule dr -> {
              String host = Hostnames.resolve(dr.host(), r.namespace(), domainSuffix);
              String own = first(w.services(), host);
              String called = first(w.calls(), host);
              yield own != null
                  ? "traffic policy of its service " + own
                  : called != null ? "traffic policy of its calls to " + called : null;
            }
            default -> null;
          };
      if (why != null) {
        out.add(new Applied(r.kind().toString(), r.namespace(), r.name(), why));
      }
    }
    return out;
  }

  private static @Nullable String virtualService(
      Resource<?> r,
      VirtualService vs,
      Subject w,
      List<String> boundGateways,
      String domainSuffix) {
    for (String g : vs.gateways()) {
      String qualified = g.contains("/") ? g : r.namespace() + "/" + g;
      if (boundGateways.contains(qualified)) {
        return "bound to Gateway " + qualified + ", which selects it";
      }
    }
    boolean mesh = vs.gateways().isEmpty() || vs.gateways().contains("mesh");
    if (!mesh) {
      return null;
    }
    for (String h : vs.hosts()) {
      String host = Hostnames.resolve(h, r.namespace(), domainSuffix);
      String own = first(w.services(), host);
      if (own != null) {
        return "routes calls to its service " + own;
      }
      String called = first(w.calls(), host);
      if (called != null) {
        return "routes its calls to " + called;
      }
    }
    return null;
  }

  private static @Nullable String selected(
      Resource<?> r, Subject w, String rootNamespace, @Nullable Map<String, String> selector) {
    boolean root = r.namespace().equals(rootNamespace);
    if (!root && !r.namespace().equals(w.namespace())) {
      return null;
    }
    if (selector == null || selector.isEmpty()) {
      return root ? "mesh-wide (root namespace, no selector)" : "namespace-wide (no selector)";
    }
    return matches(selector, w.labels()) ? "selects it " + selector : null;
  }

  private static @Nullable Map<String, String> labels(@Nullable WorkloadSelector s) {
    return s == null ? null : s.labels();
  }

  private static @Nullable Map<String, String> labels(@Nullable LabelSelector s) {
    return s == null ? null : s.matchLabels();
  }

  private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  /** The first of {@code hosts} that {@code pattern} ({@code *} wildcards) covers. */
  private static @Nullable String first(Set<String> hosts, String pattern) {
    for (String h : hosts) {
      if (pattern.equals("*")
          || pattern.equals(h)
          || (pattern.startsWith("*") && h.endsWith(pattern.substring(1)))) {
        return h;
      }
    }
    return null;
  }
}
