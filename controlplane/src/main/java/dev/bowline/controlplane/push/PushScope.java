package dev.bowline.controlplane.push;

import java.util.HashSet;
import java.util.Set;

/**
 * What a config push is limited to, as istiod narrows pushes for VirtualService and DestinationRule
 * changes ({@code SidecarScope.DependsOnConfig}, {@code pushTypeFor}): only proxies that see one of
 * {@code hosts} are pushed, and only the resource types in {@code typeUrls}.
 *
 * @param hosts the hosts the changed resources named (before and after the change), as written:
 *     full names, short names or wildcards ({@code *.example.com})
 * @param typeUrls the xDS types the change can alter
 */
public record PushScope(Set<String> hosts, Set<String> typeUrls) {
  public PushScope {
    hosts = Set.copyOf(hosts);
    typeUrls = Set.copyOf(typeUrls);
  }

  /** One scope covering both. */
  public PushScope merge(PushScope other) {
    Set<String> h = new HashSet<>(hosts);
    h.addAll(other.hosts);
    Set<String> t = new HashSet<>(typeUrls);
    t.addAll(other.typeUrls);
    return new PushScope(h, t);
  }

  /**
   * Whether a config for {@code pattern} may apply to service {@code hostname}: the same name, a
   * wildcard covering it, or a short name of it ({@code forecast} or {@code forecast.weather} for
   * {@code forecast.weather.svc.cluster.local}). Errs on the side of pushing.
   */
  public static boolean covers(String pattern, String hostname) {
    if (pattern.equals("*") || pattern.equals(hostname)) {
      return true;
    }
    if (pattern.startsWith("*")) {
      return hostname.endsWith(pattern.substring(1));
    }
    return hostname.startsWith(pattern + ".");
  }
}
