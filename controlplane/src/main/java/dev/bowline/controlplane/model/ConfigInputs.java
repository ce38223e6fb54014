package dev.bowline.controlplane.model;

import dev.bowline.controlplane.registry.Service;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The Istio configuration a {@link PushContext} is built from, as the indexes generators query. The
 * config module (VirtualService, DestinationRule, Sidecar from the config store) implements these;
 * until it does, {@link #NONE} says "no Istio config is in force", and the generators then produce
 * what istiod produces for a mesh without such resources (default routes, round robin, every
 * service visible).
 *
 * @param virtualServices VirtualService routes by host and port
 * @param destinationRules DestinationRule policies by host
 * @param sidecars the SidecarScope of each proxy
 * @param telemetries the Telemetry resources in force (telemetry.istio.io)
 */
public record ConfigInputs(
    VirtualServices virtualServices,
    DestinationRules destinationRules,
    Sidecars sidecars,
    Telemetries telemetries) {
  /** No VirtualService, DestinationRule or Sidecar: Istio's defaults. */
  public static final ConfigInputs NONE =
      new ConfigInputs(
          (service, port, proxy) -> Optional.empty(),
          (service, proxy) -> Optional.empty(),
          proxy -> SidecarScope.DEFAULT);

  /** Inputs without Telemetry resources. */
  public ConfigInputs(
      VirtualServices virtualServices, DestinationRules destinationRules, Sidecars sidecars) {
    this(virtualServices, destinationRules, sidecars, List::of);
  }

  public ConfigInputs {
    Objects.requireNonNull(telemetries, "telemetries");
    Objects.requireNonNull(virtualServices, "virtualServices");
    Objects.requireNonNull(destinationRules, "destinationRules");
    Objects.requireNonNull(sidecars, "sidecars");
  }

  /** VirtualService index: the HTTP routes bound to a service port, as seen by a proxy. */
  @FunctionalInterface
  public interface VirtualServices {
    /**
     * The routes of the VirtualService for {@code service:port} visible to {@code proxy} (exportTo,
     * namespace precedence applied), or empty when none applies and the default route is used.
     */
    Optional<List<HttpRoute>> httpRoutes(Service service, int port, Proxy proxy);
  }

  /** DestinationRule index: the merged policy for a host, as seen by a proxy. */
  @FunctionalInterface
  public interface DestinationRules {
    /** The traffic policy for {@code service} as seen from {@code proxy}'s namespace, if any. */
    Optional<TrafficPolicy> trafficPolicy(Service service, Proxy proxy);
  }

  /** The Telemetry resources in force; generators resolve them per proxy. */
  @FunctionalInterface
  public interface Telemetries {
    List<dev.bowline.api.Resource<dev.bowline.api.model.Telemetry>> all();
  }

  /** Sidecar index: the scope of each proxy (workloadSelector, namespace default, mesh default). */
  @FunctionalInterface
  public interface Sidecars {
    /** The scope that applies to {@code proxy}. */
    SidecarScope scopeFor(Proxy proxy);
  }
}
