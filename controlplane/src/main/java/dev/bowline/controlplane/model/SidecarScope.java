package dev.bowline.controlplane.model;

import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What one proxy sees, as Istio's SidecarScope: the egress hosts ({@code namespace/host} patterns),
 * the outbound traffic policy, and the Sidecar's own egress and ingress listeners. Without a {@code
 * Sidecar} resource Istio uses {@code *&#47;*} and {@code ALLOW_ANY}: {@link #DEFAULT}.
 *
 * @param egressHosts Istio's {@code egress.hosts} of every egress listener: {@code *&#47;*}, {@code
 *     .&#47;*}, {@code weather&#47;*}, {@code *&#47;forecast.weather.svc.cluster.local}, {@code
 *     ~&#47;*} (none)
 * @param outboundPolicy what happens to traffic for unknown destinations, or null when the Sidecar
 *     does not say (MeshConfig's {@code outboundTrafficPolicy} then applies: {@link
 *     PushContext#outboundTrafficPolicy})
 * @param origin where the scope comes from ({@code default} or {@code Sidecar ns/name})
 * @param egressListeners the Sidecar's egress listeners that name a port (the catch-all one, with
 *     no port, only contributes hosts)
 * @param ingressListeners the Sidecar's ingress listeners; empty means "from the service instances"
 */
public record SidecarScope(
    List<String> egressHosts,
    @Nullable OutboundTrafficPolicy outboundPolicy,
    String origin,
    List<EgressListener> egressListeners,
    List<IngressListener> ingressListeners) {
  /**
   * Istio's default scope: every service in every namespace, unknown traffic as MeshConfig says.
   */
  public static final SidecarScope DEFAULT = new SidecarScope(List.of("*/*"), null, "default");

  /** The port Istio's local HTTP proxy listens on in local mode (decision 0010). */
  public static final int DEFAULT_HTTP_PROXY_PORT = 15001;

  /**
   * {@code ALLOW_ANY} sends unknown traffic to PassthroughCluster; {@code REGISTRY_ONLY} to
   * BlackHoleCluster.
   */
  public enum OutboundTrafficPolicy {
    ALLOW_ANY,
    REGISTRY_ONLY
  }

  /**
   * A Sidecar {@code egress} listener with a port.
   *
   * @param port its port number
   * @param protocol its protocol ({@code HTTP}, {@code HTTP_PROXY}, {@code TCP}, ...), upper case
   * @param bind the address it binds, or empty for the default
   * @param captureMode {@code DEFAULT}, {@code IPTABLES} or {@code NONE}
   * @param hosts its hosts ({@code namespace/host})
   */
  public record EgressListener(
      int port, String protocol, String bind, String captureMode, List<String> hosts) {
    public EgressListener {
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(bind, "bind");
      Objects.requireNonNull(captureMode, "captureMode");
      hosts = List.copyOf(hosts);
    }

    /** Whether it is an HTTP proxy listener (protocol {@code HTTP_PROXY}). */
    public boolean isHttpProxy() {
      return protocol.equals("HTTP_PROXY");
    }
  }

  /**
   * A Sidecar {@code ingress} listener.
   *
   * @param port the port it receives on
   * @param protocol its protocol, upper case
   * @param portName the port's name
   * @param bind the address it binds, or empty for the workload's
   * @param defaultEndpoint where it forwards: {@code 127.0.0.1:PORT} or {@code 0.0.0.0:PORT}
   */
  public record IngressListener(
      int port, String protocol, String portName, String bind, String defaultEndpoint) {
    public IngressListener {
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(portName, "portName");
      Objects.requireNonNull(bind, "bind");
      Objects.requireNonNull(defaultEndpoint, "defaultEndpoint");
    }

    /** The port of {@link #defaultEndpoint}, or {@link #port} if it names none. */
    public int targetPort() {
      int colon = defaultEndpoint.lastIndexOf(':');
      if (colon < 0) {
        return port;
      }
      try {
        return Integer.parseInt(defaultEndpoint.substring(colon + 1));
      } catch (NumberFormatException e) {
        return port;
      }
    }
  }

  public SidecarScope {
    egressHosts = List.copyOf(egressHosts);
    Objects.requireNonNull(origin, "origin");
    egressListeners = List.copyOf(egressListeners);
    ingressListeners = List.copyOf(ingressListeners);
  }

  /** A scope with only egress hosts and a policy. */
  public SidecarScope(
      List<String> egressHosts, @Nullable OutboundTrafficPolicy outboundPolicy, String origin) {
    this(egressHosts, outboundPolicy, origin, List.of(), List.of());
  }

  /** Whether {@code service} is visible to a proxy of {@code proxyNamespace} under this scope. */
  public boolean isVisible(Service service, String proxyNamespace) {
    return matchesAny(egressHosts, service, proxyNamespace);
  }

  /**
   * Whether one of {@code hosts} ({@code namespace/host}) selects {@code service}, as Istio: the
   * namespace part is {@code *} (any), {@code .} (the proxy's), {@code ~} (none) or a name; the
   * host part is {@code *}, a {@code *.suffix} wildcard or an exact hostname. A host without a
   * namespace part means any namespace.
   */
  public static boolean matchesAny(List<String> hosts, Service service, String proxyNamespace) {
    for (String pattern : hosts) {
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
      // *.example.com selects a.example.com and the wildcard service *.b.example.com
      return hostname.endsWith(pattern.substring(1));
    }
    return pattern.equals(hostname);
  }

  /**
   * The HTTP proxy egress listener of {@code proxy}: the Sidecar's {@code HTTP_PROXY} egress
   * listener if it declares one; else, for a local-mode proxy ({@code INTERCEPTION_MODE=NONE}),
   * Istio's local-mode default on port 15001 with this scope's hosts (decision 0010); else none.
   * Its bind is the Sidecar's {@code bind}, else the proxy's address.
   */
  public Optional<EgressListener> httpProxyListener(Proxy proxy) {
    for (EgressListener e : egressListeners) {
      if (e.isHttpProxy()) {
        String bind = e.bind().isEmpty() ? proxy.ipAddress() : e.bind();
        List<String> hosts = e.hosts().isEmpty() ? egressHosts : e.hosts();
        return Optional.of(
            new EgressListener(e.port(), e.protocol(), bind, e.captureMode(), hosts));
      }
    }
    if (proxy.isLocalMode()) {
      return Optional.of(
          new EgressListener(
              DEFAULT_HTTP_PROXY_PORT, "HTTP_PROXY", proxy.ipAddress(), "NONE", egressHosts));
    }
    return Optional.empty();
  }

  /** The ingress listener on {@code port}, if the Sidecar declares one. */
  public @Nullable IngressListener ingress(int port) {
    for (IngressListener i : ingressListeners) {
      if (i.port() == port) {
        return i;
      }
    }
    return null;
  }
}
