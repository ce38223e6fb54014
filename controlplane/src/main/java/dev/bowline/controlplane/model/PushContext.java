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
 * mutated.
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

  /** The scope of {@code proxy}. */
  public SidecarScope scope(Proxy proxy) {
    return config.sidecars().scopeFor(proxy);
  }

  /** The services {@code proxy} may reach under its scope, sorted by hostname. */
  public List<Service> visibleServices(Proxy proxy) {
    SidecarScope scope = scope(proxy);
    return registry.services().stream().filter(s -> scope.isVisible(s, proxy.namespace())).toList();
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

  /** The proxy's own service instances (the endpoints at its IP address). */
  public List<Endpoint> serviceInstances(Proxy proxy) {
    return registry.instancesAt(proxy.ipAddress());
  }
}
