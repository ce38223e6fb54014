package dev.bowline.controlplane.model;

import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Objects;

/**
 * What one proxy sees, as Istio's SidecarScope: the egress hosts ({@code namespace/host} patterns)
 * and the outbound traffic policy. Without a {@code Sidecar} resource Istio uses {@code *&#47;*}
 * and {@code ALLOW_ANY}: {@link #DEFAULT}.
 *
 * @param egressHosts Istio's {@code egress.hosts}: {@code *&#47;*}, {@code .&#47;*}, {@code
 *     weather&#47;*}, {@code *&#47;forecast.weather.svc.cluster.local}, {@code ~&#47;*} (none)
 * @param outboundPolicy what happens to traffic for unknown destinations
 * @param origin where the scope comes from ({@code default} or {@code Sidecar ns/name})
 */
public record SidecarScope(
    List<String> egressHosts, OutboundTrafficPolicy outboundPolicy, String origin) {
  /** Istio's default scope: every service in every namespace, unknown traffic passes through. */
  public static final SidecarScope DEFAULT =
      new SidecarScope(List.of("*/*"), OutboundTrafficPolicy.ALLOW_ANY, "default");

  /**
   * {@code ALLOW_ANY} sends unknown traffic to PassthroughCluster; {@code REGISTRY_ONLY} to
   * BlackHoleCluster.
   */
  public enum OutboundTrafficPolicy {
    ALLOW_ANY,
    REGISTRY_ONLY
  }

  public SidecarScope {
    egressHosts = List.copyOf(egressHosts);
    Objects.requireNonNull(outboundPolicy, "outboundPolicy");
    Objects.requireNonNull(origin, "origin");
  }

  /** Whether {@code service} is visible to a proxy of {@code proxyNamespace} under this scope. */
  public boolean isVisible(Service service, String proxyNamespace) {
    for (String pattern : egressHosts) {
      int slash = pattern.indexOf('/');
      String ns = slash < 0 ? "*" : pattern.substring(0, slash);
      String host = slash < 0 ? pattern : pattern.substring(slash + 1);
      boolean nsOk =
          ns.equals("*")
              || (ns.equals(".") && service.namespace().equals(proxyNamespace))
              || ns.equals(service.namespace());
      if (nsOk && hostMatches(host, service.hostname())) {
        return true;
      }
    }
    return false;
  }

  private static boolean hostMatches(String pattern, String hostname) {
    if (pattern.equals("*")) {
      return true;
    }
    if (pattern.startsWith("*.")) {
      return hostname.endsWith(pattern.substring(1));
    }
    return pattern.equals(hostname);
  }
}
