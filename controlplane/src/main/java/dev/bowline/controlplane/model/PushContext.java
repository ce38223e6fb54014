package dev.bowline.controlplane.model;

import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a push generates from, fixed at one moment: the registry snapshot and the Istio config
 * inputs, with the lookups generators need. Built once per push and shared by every proxy; never
 * mutated (its per-scope views are computed on first use and then only read).
 */
public final class PushContext {
  private final long version;
  private final RegistrySnapshot registry;
  private final ConfigInputs config;

  /** A context numbered {@code version} over {@code registry} and {@code config}. */
  public PushContext(long version, RegistrySnapshot registry, ConfigInputs config) {
    this.version = version;
    this.registry = Objects.requireNonNull(registry, "registry");
    this.config = Objects.requireNonNull(config, "config");
  }

  /** Increases with every push; the SotW {@code version_info}. */
  public long version() {
    return version;
  }

  /** The registry this push was built from. */
  public RegistrySnapshot registry() {
    return registry;
  }

  /** The Istio config inputs of this push. */
  public ConfigInputs config() {
    return config;
  }

  /** The scope of {@code proxy}, computed once per push for its namespace and labels. */
  public SidecarScope scope(Proxy proxy) {
    return view(proxy).scope();
  }

  /**
   * The services {@code proxy} may reach: exported to its namespace and selected by its scope's
   * egress hosts, sorted by hostname; computed once per push for its namespace and labels.
   */
  public List<Service> visibleServices(Proxy proxy) {
    return view(proxy).services();
  }

  /** What proxies of one namespace with the same labels see (Istio's SidecarScope per push). */
  private record ScopeKey(String namespace, java.util.Map<String, String> labels) {}

  private record ScopeView(SidecarScope scope, List<Service> services) {}

  private final java.util.concurrent.ConcurrentHashMap<ScopeKey, ScopeView> views =
      new java.util.concurrent.ConcurrentHashMap<>();

  private ScopeView view(Proxy proxy) {
    ScopeKey key = new ScopeKey(proxy.namespace(), proxy.labels());
    ScopeView v = views.get(key);
    if (v != null) {
      return v;
    }
    return views.computeIfAbsent(
        key,
        k -> {
          SidecarScope scope = config.sidecars().scopeFor(proxy);
          List<Service> services =
              registry.services().stream()
                  .filter(
                      s ->
                          s.isExportedTo(proxy.namespace())
                              && scope.isVisible(s, proxy.namespace()))
                  .toList();
          return new ScopeView(scope, services);
        });
  }

  /** The service {@code name} means to {@code proxy} (short names resolve in its namespace). */
  public Optional<Service> resolve(String name, Proxy proxy) {
    return registry.resolve(name, proxy.namespace());
  }

  /** The traffic policy for {@code service} as seen by {@code proxy}; the default if none. */
  public TrafficPolicy trafficPolicy(Service service, Proxy proxy) {
    return config.destinationRules().trafficPolicy(service, proxy).orElse(TrafficPolicy.DEFAULT);
  }

  /** The VirtualService routes for {@code service:port} seen by {@code proxy}, if any. */
  /** The EnvoyFilter patches that apply to {@code proxy}, in order. */
  public List<ConfigInputs.EnvoyFilterPatch> envoyFilterPatches(Proxy proxy) {
    return config().envoyFilters().patches(proxy);
  }

  public Optional<List<HttpRoute>> httpRoutes(Service service, int port, Proxy proxy) {
    return config.virtualServices().httpRoutes(service, port, proxy);
  }

  /**
   * The VirtualService {@code tcp} route for {@code service:port} seen by {@code proxy}, if any.
   */
  public Optional<L4Route> tcpRoute(Service service, int port, Proxy proxy) {
    return config.virtualServices().tcpRoute(service, port, proxy);
  }

  /** The VirtualService {@code tls} routes for {@code service:port} seen by {@code proxy}. */
  public List<L4Route> tlsRoutes(Service service, int port, Proxy proxy) {
    return config.virtualServices().tlsRoutes(service, port, proxy);
  }

  /** The mutual TLS {@code proxy}'s workload accepts on its (target) port {@code port}. */
  public MtlsMode mtlsMode(Proxy proxy, int port) {
    return config.peerAuthentications().mode(proxy.namespace(), proxy.labels(), port);
  }

  /** The mutual TLS endpoint {@code e}'s workload accepts on its port. */
  public MtlsMode mtlsMode(Endpoint e) {
    return config.peerAuthentications().mode(e.namespace(), e.labels(), e.port());
  }

  /** The AuthorizationPolicies in force for {@code proxy}'s workload. */
  public List<dev.bowline.api.Resource<dev.bowline.api.model.AuthorizationPolicy>>
      authorizationPolicies(Proxy proxy) {
    return config.authorizationPolicies().forWorkload(proxy.namespace(), proxy.labels());
  }

  /** The proxy's own service instances (the endpoints at its IP address). */
  public List<Endpoint> serviceInstances(Proxy proxy) {
    return registry.instancesAt(proxy.ipAddress());
  }
}
