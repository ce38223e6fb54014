package dev.bowline.controlplane.model;

import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Everything a push generates from, fixed at one moment: the registry snapshot, the Istio config
 * inputs and the MeshConfig, with the lookups generators need. Built once per push and shared by
 * every proxy; never mutated (its per-scope views are computed on first use and then only read).
 */
public final class PushContext {
  private final long version;
  private final RegistrySnapshot registry;
  private final ConfigInputs config;
  private final MeshConfig mesh;
  private final List<String> trustDomains;
  private final HttpRoute.@Nullable Retry defaultRetry;
  private final TrafficPolicy.ClusterSettings meshClusterDefaults;

  /**
   * A context numbered {@code version} over {@code registry} and {@code config}, with Istio's
   * default MeshConfig.
   */
  public PushContext(long version, RegistrySnapshot registry, ConfigInputs config) {
    this(version, registry, config, MeshConfig.defaults());
  }

  /**
   * A context numbered {@code version} over {@code registry}, {@code config} and {@code mesh} (a
   * MeshConfig already merged over Istio's defaults and validated).
   */
  public PushContext(
      long version, RegistrySnapshot registry, ConfigInputs config, MeshConfig mesh) {
    this.version = version;
    this.registry = Objects.requireNonNull(registry, "registry");
    this.config = Objects.requireNonNull(config, "config");
    this.mesh = Objects.requireNonNull(mesh, "mesh");
    java.util.LinkedHashSet<String> tds = new java.util.LinkedHashSet<>();
    tds.add(trustDomainOf(mesh));
    tds.addAll(mesh.trustDomainAliases());
    this.trustDomains = List.copyOf(tds);
    this.defaultRetry =
        mesh.defaultHttpRetryPolicy() == null
            ? null
            : HttpRoute.Retry.of(mesh.defaultHttpRetryPolicy());
    this.meshClusterDefaults =
        new TrafficPolicy.ClusterSettings(
            null,
            null,
            null,
            null,
            null,
            TrafficPolicy.LocalityLb.of(mesh.localityLbSetting()),
            null,
            null);
  }

  /**
   * {@code settings} over the mesh-wide cluster defaults: MeshConfig {@code localityLbSetting}
   * where the DestinationRule sets none (as istiod's {@code getLocalityLbSetting}).
   */
  public TrafficPolicy.ClusterSettings withMeshDefaults(TrafficPolicy.ClusterSettings settings) {
    return settings.localityLb() != null || meshClusterDefaults.localityLb() == null
        ? settings
        : settings.over(meshClusterDefaults);
  }

  private static String trustDomainOf(MeshConfig mesh) {
    String td = mesh.trustDomain();
    return td == null || td.isEmpty() ? "cluster.local" : td;
  }

  /**
   * The MeshConfig of this push (Istio's defaults merged with the mesh config in force). Generators
   * read mesh-wide settings here, never from constants: tracing ({@code enableTracing}, {@code
   * defaultProviders}, {@code extensionProviders}), access logs, timeouts (decision 0021).
   */
  public MeshConfig mesh() {
    return mesh;
  }

  /**
   * The mesh's trust domain (MeshConfig {@code trustDomain}, {@code cluster.local} by default): the
   * one accessor for SPIFFE identities ({@code spiffe://<trustDomain>/ns/<ns>/sa/<sa>}).
   */
  public String trustDomain() {
    return trustDomains.getFirst();
  }

  /**
   * The trust domain followed by its {@code trustDomainAliases}, without repeats: the domains whose
   * identities a peer may present (inbound validation, outbound SAN checks, AuthorizationPolicy
   * principals), as istiod's {@code TrustDomainsForValidation}.
   */
  public List<String> trustDomains() {
    return trustDomains;
  }

  /**
   * MeshConfig {@code defaultHttpRetryPolicy} in the VirtualService form, or null for Istio's
   * built-in default (2 attempts on connect-failure, refused-stream, unavailable, cancelled, 503).
   * Routes with their own {@code retries} ignore it.
   */
  public HttpRoute.@Nullable Retry defaultRetry() {
    return defaultRetry;
  }

  /**
   * The outbound traffic policy of {@code proxy}: its Sidecar's {@code outboundTrafficPolicy} if
   * the Sidecar sets one, else MeshConfig's ({@code ALLOW_ANY} by default).
   */
  public SidecarScope.OutboundTrafficPolicy outboundTrafficPolicy(Proxy proxy) {
    SidecarScope.OutboundTrafficPolicy own = scope(proxy).outboundPolicy();
    if (own != null) {
      return own;
    }
    var otp = mesh.outboundTrafficPolicy();
    return otp != null && otp.mode() == MeshConfig.OutboundTrafficPolicy.Mode.REGISTRY_ONLY
        ? SidecarScope.OutboundTrafficPolicy.REGISTRY_ONLY
        : SidecarScope.OutboundTrafficPolicy.ALLOW_ANY;
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
