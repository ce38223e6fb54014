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
 * @param gateways the Gateway servers of each gateway proxy and the VirtualServices bound to them
 * @param peerAuthentications the PeerAuthentication mode of each workload port
 * @param envoyFilters the EnvoyFilter patches that apply to each proxy
 * @param telemetries the Telemetry resources in force (telemetry.istio.io)
 * @param requestAuthentications the RequestAuthentications that apply to each workload
 * @param authorizationPolicies the AuthorizationPolicies that apply to each workload
 */
public record ConfigInputs(
    VirtualServices virtualServices,
    DestinationRules destinationRules,
    Sidecars sidecars,
    Gateways gateways,
    PeerAuthentications peerAuthentications,
    EnvoyFilters envoyFilters,
    Telemetries telemetries,
    RequestAuthentications requestAuthentications,
    AuthorizationPolicies authorizationPolicies) {
  /**
   * No VirtualService, DestinationRule, Sidecar, Gateway, PeerAuthentication or EnvoyFilter:
   * Istio's defaults.
   */
  public static final ConfigInputs NONE =
      new ConfigInputs(
          (service, port, proxy) -> Optional.empty(),
          (service, proxy) -> Optional.empty(),
          proxy -> SidecarScope.DEFAULT);

  public ConfigInputs {
    Objects.requireNonNull(virtualServices, "virtualServices");
    Objects.requireNonNull(destinationRules, "destinationRules");
    Objects.requireNonNull(sidecars, "sidecars");
    Objects.requireNonNull(gateways, "gateways");
    Objects.requireNonNull(peerAuthentications, "peerAuthentications");
    Objects.requireNonNull(envoyFilters, "envoyFilters");
    Objects.requireNonNull(telemetries, "telemetries");
    Objects.requireNonNull(requestAuthentications, "requestAuthentications");
    Objects.requireNonNull(authorizationPolicies, "authorizationPolicies");
  }

  /** These inputs with {@code r} as their RequestAuthentication index. */
  public ConfigInputs withRequestAuthentications(RequestAuthentications r) {
    return new ConfigInputs(
        virtualServices,
        destinationRules,
        sidecars,
        gateways,
        peerAuthentications,
        envoyFilters,
        telemetries,
        r,
        authorizationPolicies);
  }

  /** These inputs with {@code a} as their AuthorizationPolicy index. */
  public ConfigInputs withAuthorizationPolicies(AuthorizationPolicies a) {
    return new ConfigInputs(
        virtualServices,
        destinationRules,
        sidecars,
        gateways,
        peerAuthentications,
        envoyFilters,
        telemetries,
        requestAuthentications,
        a);
  }

  /** Inputs without RequestAuthentication or AuthorizationPolicy. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      Gateways gateways,
      PeerAuthentications peerAuthentications,
      EnvoyFilters envoyFilters,
      Telemetries telemetries) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        gateways,
        peerAuthentications,
        envoyFilters,
        telemetries,
        RequestAuthentications.NONE,
        AuthorizationPolicies.NONE);
  }

  /**
   * RequestAuthentication index: the policies that apply to a workload, as istiod selects them (its
   * namespace's and the root namespace's, each without selector or with one matching).
   */
  @FunctionalInterface
  public interface RequestAuthentications {
    /** No RequestAuthentication anywhere. */
    RequestAuthentications NONE = (namespace, labels) -> List.of();

    /** The policies for a workload of {@code namespace} with {@code labels}. */
    List<dev.bowline.api.Resource<dev.bowline.api.model.RequestAuthentication>> forWorkload(
        String namespace, java.util.Map<String, String> labels);
  }

  /** AuthorizationPolicy index (security.istio.io): the policies in force for a workload. */
  @FunctionalInterface
  public interface AuthorizationPolicies {
    /** No AuthorizationPolicy anywhere: every request is allowed. */
    AuthorizationPolicies NONE = (namespace, labels) -> List.of();

    /**
     * The policies that apply to the workload in {@code namespace} with {@code labels}: those of
     * the root namespace (mesh-wide) and of {@code namespace}, without a selector or with one the
     * labels match; sorted by namespace, then name.
     */
    List<dev.bowline.api.Resource<dev.bowline.api.model.AuthorizationPolicy>> forWorkload(
        String namespace, java.util.Map<String, String> labels);
  }

  /** Inputs without Telemetry resources. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      Gateways gateways,
      PeerAuthentications peerAuthentications,
      EnvoyFilters envoyFilters) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        gateways,
        peerAuthentications,
        envoyFilters,
        List::of);
  }

  /** Inputs with Telemetry resources only besides the three basic indexes. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      Telemetries telemetries) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        Gateways.NONE,
        PeerAuthentications.PERMISSIVE,
        EnvoyFilters.NONE,
        telemetries);
  }

  /** The Telemetry resources in force; generators resolve them per proxy. */
  @FunctionalInterface
  public interface Telemetries {
    List<dev.bowline.api.Resource<dev.bowline.api.model.Telemetry>> all();
  }

  /** Inputs without Gateways, PeerAuthentication (every port PERMISSIVE) or EnvoyFilters. */
  public ConfigInputs(
      VirtualServices virtualServices, DestinationRules destinationRules, Sidecars sidecars) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        Gateways.NONE,
        PeerAuthentications.PERMISSIVE,
        EnvoyFilters.NONE);
  }

  /** Inputs with Gateways only besides the three basic indexes. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      Gateways gateways) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        gateways,
        PeerAuthentications.PERMISSIVE,
        EnvoyFilters.NONE);
  }

  /** Inputs with PeerAuthentication only besides the three basic indexes. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      PeerAuthentications peerAuthentications) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        Gateways.NONE,
        peerAuthentications,
        EnvoyFilters.NONE);
  }

  /** Inputs with EnvoyFilters only besides the three basic indexes. */
  public ConfigInputs(
      VirtualServices virtualServices,
      DestinationRules destinationRules,
      Sidecars sidecars,
      EnvoyFilters envoyFilters) {
    this(
        virtualServices,
        destinationRules,
        sidecars,
        Gateways.NONE,
        PeerAuthentications.PERMISSIVE,
        envoyFilters);
  }

  /** PeerAuthentication index: the mTLS a workload port accepts. */
  @FunctionalInterface
  public interface PeerAuthentications {
    /** No PeerAuthentication anywhere: PERMISSIVE, Istio's default. */
    PeerAuthentications PERMISSIVE = (namespace, labels, port) -> MtlsMode.PERMISSIVE;

    /**
     * The mode for the workload in {@code namespace} with {@code labels} on its (target) port
     * {@code port}: port-level, then workload, namespace and mesh policies, UNSET inheriting.
     */
    MtlsMode mode(String namespace, java.util.Map<String, String> labels, int port);
  }

  /** EnvoyFilter index: the config patches that apply to a proxy, in the order istiod applies. */
  @FunctionalInterface
  public interface EnvoyFilters {
    /** No EnvoyFilter anywhere. */
    EnvoyFilters NONE = proxy -> List.of();

    /**
     * The patches of every EnvoyFilter selecting {@code proxy} (the root namespace's and the
     * proxy's namespace's, ordered as istiod: by priority, then name), each with its source.
     */
    List<EnvoyFilterPatch> patches(Proxy proxy);
  }

  /**
   * One config patch of an EnvoyFilter, with the filter it comes from ({@code ns/name}) and its
   * index in {@code spec.configPatches} (-1 when unknown).
   */
  public record EnvoyFilterPatch(
      String source, int index, dev.bowline.api.model.EnvoyFilter.EnvoyConfigObjectPatch patch) {
    public EnvoyFilterPatch {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(patch, "patch");
    }

    /** A patch whose index is not known. */
    public EnvoyFilterPatch(
        String source, dev.bowline.api.model.EnvoyFilter.EnvoyConfigObjectPatch patch) {
      this(source, -1, patch);
    }

    /** Where this patch's value is, for error messages: {@code EnvoyFilter ns/name: spec...}. */
    public String field(String path) {
      return "EnvoyFilter "
          + source
          + ": spec.configPatches"
          + (index < 0 ? "[]" : "[" + index + "]")
          + (path.isEmpty() ? "" : "." + path);
    }
  }

  /** VirtualService index: the HTTP routes bound to a service port, as seen by a proxy. */
  @FunctionalInterface
  public interface VirtualServices {
    /**
     * The routes of the VirtualService for {@code service:port} visible to {@code proxy} (exportTo,
     * namespace precedence applied), or empty when none applies and the default route is used.
     */
    Optional<List<HttpRoute>> httpRoutes(Service service, int port, Proxy proxy);

    /**
     * The VirtualService {@code tcp} route for {@code service:port} seen by {@code proxy}: the
     * first whose match applies (port, source labels, {@code mesh}); empty for the default.
     */
    default Optional<L4Route> tcpRoute(Service service, int port, Proxy proxy) {
      return Optional.empty();
    }

    /** The VirtualService {@code tls} routes (by SNI) for {@code service:port} seen by a proxy. */
    default List<L4Route> tlsRoutes(Service service, int port, Proxy proxy) {
      return List.of();
    }
  }

  /** DestinationRule index: the merged policy for a host, as seen by a proxy. */
  @FunctionalInterface
  public interface DestinationRules {
    /** The traffic policy for {@code service} as seen from {@code proxy}'s namespace, if any. */
    Optional<TrafficPolicy> trafficPolicy(Service service, Proxy proxy);
  }

  /** Sidecar index: the scope of each proxy (workloadSelector, namespace default, mesh default). */
  @FunctionalInterface
  public interface Sidecars {
    /** The scope that applies to {@code proxy}. */
    SidecarScope scopeFor(Proxy proxy);
  }

  /** Gateway index: what a gateway proxy ({@code router~...}) serves. */
  public interface Gateways {
    /** No Gateway resources. */
    Gateways NONE =
        new Gateways() {
          @Override
          public List<GatewayServer> servers(Proxy proxy) {
            return List.of();
          }

          @Override
          public List<GatewayVirtualService> virtualServices(GatewayServer server, Proxy proxy) {
            return List.of();
          }
        };

    /**
     * The servers of every Gateway whose {@code selector} matches {@code proxy}'s labels, in
     * (namespace, name, server) order.
     */
    List<GatewayServer> servers(Proxy proxy);

    /**
     * The VirtualServices bound to {@code server}'s Gateway and exported to {@code proxy}'s
     * namespace, in (namespace, name) order, with routes resolved for the server's port. Host
     * matching against the server's hosts is the generator's job.
     */
    List<GatewayVirtualService> virtualServices(GatewayServer server, Proxy proxy);

    /**
     * The validated Kubernetes Secret {@code namespace/name} (a {@code credentialName}), if there
     * is one with TLS material.
     */
    default java.util.Optional<CredentialSecret> secret(String namespace, String name) {
      return java.util.Optional.empty();
    }
  }
}
