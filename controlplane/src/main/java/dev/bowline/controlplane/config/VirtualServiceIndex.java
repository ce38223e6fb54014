package dev.bowline.controlplane.config;

import dev.bowline.api.Resource;
import dev.bowline.api.model.StringMatch;
import dev.bowline.api.model.VirtualService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BinaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * VirtualServices bound to the mesh, indexed as istiod's sidecar route building uses them:
 *
 * <ul>
 *   <li><b>Which one serves a host.</b> A VirtualService applies to a proxy if it is exported to
 *       the proxy's namespace and bound to {@code mesh} (no {@code gateways}, or {@code mesh}). For
 *       one host, an exact host beats a wildcard and a longer wildcard a shorter one; then one in
 *       the proxy's own namespace wins, then the first by (name, namespace) — istiod orders by
 *       creation time, which files don't have, then name. Later VirtualServices for the same host
 *       are ignored for that host, as istiod does for sidecars.
 *   <li><b>Delegates.</b> A root route with {@code delegate} is replaced by the delegate's routes
 *       (a VirtualService without hosts, which must be exported to the root's namespace), each
 *       match merged with the root's: the delegate's URI must lie inside the root's prefix, headers
 *       and query parameters are united, a conflict drops that combination. Delegates don't nest.
 * </ul>
 */
final class VirtualServiceIndex {
  /** One HTTP route and the VirtualService whose namespace resolves its short hosts. */
  record Bound(Resource<VirtualService> owner, VirtualService.HTTPRoute route) {}

  private final List<Resource<VirtualService>> roots;
  private final Map<String, Resource<VirtualService>> delegates = new HashMap<>();
  private final BinaryOperator<String> fqdn;

  /**
   * @param all every VirtualService
   * @param fqdn (host, namespace) to the fully qualified host
   */
  VirtualServiceIndex(List<Resource<VirtualService>> all, BinaryOperator<String> fqdn) {
    this.fqdn = fqdn;
    List<Resource<VirtualService>> r = new ArrayList<>();
    for (Resource<VirtualService> vs : all) {
      if (vs.spec().hosts().isEmpty()) {
        delegates.put(vs.namespace() + "/" + vs.name(), vs);
      } else if (vs.spec().gateways().isEmpty() || vs.spec().gateways().contains("mesh")) {
        r.add(vs);
      }
    }
    r.sort(
        Comparator.comparing((Resource<VirtualService> vs) -> vs.name())
            .thenComparing(Resource::namespace));
    this.roots = List.copyOf(r);
  }

  /** The VirtualService serving {@code hostname} for a proxy in {@code proxyNamespace}. */
  Optional<Resource<VirtualService>> select(String hostname, String proxyNamespace) {
    Resource<VirtualService> best = null;
    int bestScore = -1;
    for (Resource<VirtualService> vs : roots) {
      if (!IstioConfigInputs.exported(vs.spec().exportTo(), vs.namespace(), proxyNamespace)) {
        continue;
      }
      int score = score(vs, hostname);
      if (score < 0) {
        continue;
      }
      // Same specificity: the proxy's namespace first, then the sorted order.
      score = score * 2 + (vs.namespace().equals(proxyNamespace) ? 1 : 0);
      if (score > bestScore) {
        best = vs;
        bestScore = score;
      }
    }
    return Optional.ofNullable(best);
  }

  /** How specifically {@code vs} names {@code hostname}: -1 not at all, exact highest. */
  private int score(Resource<VirtualService> vs, String hostname) {
    int best = -1;
    for (String h : vs.spec().hosts()) {
      String pattern = fqdn.apply(h, vs.namespace());
      int s;
      if (pattern.equals(hostname)) {
        s = 100_000;
      } else if (pattern.equals("*")) {
        s = 0;
      } else if (pattern.startsWith("*.") && hostname.endsWith(pattern.substring(1))) {
        s = pattern.length();
      } else {
        continue;
      }
      best = Math.max(best, s);
    }
    return best;
  }

  /** The HTTP routes of {@code root}, delegates expanded. */
  List<Bound> httpRoutes(Resource<VirtualService> root) {
    List<Bound> out = new ArrayList<>();
    for (VirtualService.HTTPRoute r : root.spec().http()) {
      VirtualService.Delegate d = r.delegate();
      if (d == null) {
        out.add(new Bound(root, r));
        continue;
      }
      String ns =
          d.namespace() == null || d.namespace().isEmpty() ? root.namespace() : d.namespace();
      Resource<VirtualService> delegate = delegates.get(ns + "/" + d.name());
      if (delegate == null
          || !IstioConfigInputs.exported(
              delegate.spec().exportTo(), delegate.namespace(), root.namespace())) {
        continue; // istiod: a missing or invisible delegate contributes no routes
      }
      for (VirtualService.HTTPRoute dr : delegate.spec().http()) {
        if (dr.delegate() != null) {
          continue; // delegates don't nest
        }
        List<VirtualService.HTTPMatchRequest> matches = mergeMatches(r.match(), dr.match());
        if (matches == null) {
          continue;
        }
        out.add(new Bound(delegate, withMatches(dr, matches)));
      }
    }
    return out;
  }

  /** The root's and the delegate's matches combined; null if none survives. */
  static @Nullable List<VirtualService.HTTPMatchRequest> mergeMatches(
      List<VirtualService.HTTPMatchRequest> root, List<VirtualService.HTTPMatchRequest> delegate) {
    if (root.isEmpty()) {
      return delegate;
    }
    if (delegate.isEmpty()) {
      return root;
    }
    List<VirtualService.HTTPMatchRequest> out = new ArrayList<>();
    for (VirtualService.HTTPMatchRequest rm : root) {
      for (VirtualService.HTTPMatchRequest dm : delegate) {
        VirtualService.HTTPMatchRequest m = merge(rm, dm);
        if (m != null) {
          out.add(m);
        }
      }
    }
    return out.isEmpty() ? null : out;
  }

  private static VirtualService.@Nullable HTTPMatchRequest merge(
      VirtualService.HTTPMatchRequest root, VirtualService.HTTPMatchRequest d) {
    StringMatch uri = mergeUri(root.uri(), d.uri());
    if (root.uri() != null && d.uri() != null && uri == null) {
      return null;
    }
    StringMatch[] one = new StringMatch[3];
    StringMatch[][] pairs = {
      {root.scheme(), d.scheme()}, {root.method(), d.method()}, {root.authority(), d.authority()}
    };
    for (int i = 0; i < 3; i++) {
      StringMatch a = pairs[i][0];
      StringMatch b = pairs[i][1];
      if (a != null && b != null && !a.equals(b)) {
        return null;
      }
      one[i] = b != null ? b : a;
    }
    Map<String, StringMatch> headers = union(root.headers(), d.headers());
    Map<String, StringMatch> query = union(root.queryParams(), d.queryParams());
    Map<String, StringMatch> without = union(root.withoutHeaders(), d.withoutHeaders());
    Map<String, String> sourceLabels = new LinkedHashMap<>(root.sourceLabels());
    for (var e : d.sourceLabels().entrySet()) {
      String prev = sourceLabels.putIfAbsent(e.getKey(), e.getValue());
      if (prev != null && !prev.equals(e.getValue())) {
        return null;
      }
    }
    if (headers == null || query == null || without == null) {
      return null;
    }
    if (root.port() != null && d.port() != null && !root.port().equals(d.port())) {
      return null;
    }
    if (root.sourceNamespace() != null
        && d.sourceNamespace() != null
        && !root.sourceNamespace().equals(d.sourceNamespace())) {
      return null;
    }
    String name =
        root.name() == null
            ? d.name()
            : d.name() == null ? root.name() : root.name() + "." + d.name();
    return new VirtualService.HTTPMatchRequest(
        name,
        uri != null ? uri : root.uri() != null ? root.uri() : d.uri(),
        one[0],
        one[1],
        one[2],
        headers,
        d.port() != null ? d.port() : root.port(),
        sourceLabels,
        d.gateways().isEmpty() ? root.gateways() : d.gateways(),
        query,
        d.ignoreUriCase() != null ? d.ignoreUriCase() : root.ignoreUriCase(),
        without,
        d.sourceNamespace() != null ? d.sourceNamespace() : root.sourceNamespace(),
        d.statPrefix() != null ? d.statPrefix() : root.statPrefix());
  }

  /** istiod: the delegate's URI must lie within the root's; null on conflict. */
  private static @Nullable StringMatch mergeUri(
      @Nullable StringMatch root, @Nullable StringMatch d) {
    if (root == null || d == null) {
      return null;
    }
    StringMatch.Match r = root.match();
    StringMatch.Match m = d.match();
    if (r == null || m == null) {
      return null;
    }
    if (r instanceof StringMatch.Prefix rp) {
      if ((m instanceof StringMatch.Prefix || m instanceof StringMatch.Exact)
          && m.value().startsWith(rp.value())) {
        return d;
      }
      return null;
    }
    return Objects.equals(r, m) ? d : null;
  }

  private static @Nullable Map<String, StringMatch> union(
      Map<String, StringMatch> a, Map<String, StringMatch> b) {
    Map<String, StringMatch> out = new LinkedHashMap<>(a);
    for (var e : b.entrySet()) {
      StringMatch prev = out.putIfAbsent(e.getKey(), e.getValue());
      if (prev != null && !prev.equals(e.getValue())) {
        return null;
      }
    }
    return out;
  }

  private static VirtualService.HTTPRoute withMatches(
      VirtualService.HTTPRoute r, List<VirtualService.HTTPMatchRequest> matches) {
    return new VirtualService.HTTPRoute(
        r.name(),
        matches,
        r.route(),
        r.redirect(),
        r.directResponse(),
        null,
        r.rewrite(),
        r.timeout(),
        r.retries(),
        r.fault(),
        r.mirror(),
        r.mirrorPercent(),
        r.mirrorPercentage(),
        r.mirrors(),
        r.corsPolicy(),
        r.headers());
  }
}
