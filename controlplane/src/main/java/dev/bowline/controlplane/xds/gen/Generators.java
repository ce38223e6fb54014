package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import java.util.Optional;

/**
 * Chooses the generator for a proxy and a type URL: proxyless gRPC clients ({@code GENERATOR=grpc})
 * get istiod's grpc generator output; gateways ({@code router~}) get listeners and routes from the
 * Gateway resources that select them; sidecars get istiod's sidecar output. CDS and EDS are shared.
 */
public final class Generators {
  private final XdsGenerator clusters =
      patched(
          new ClusterGenerator(),
          dev.bowline.controlplane.xds.gen.envoyfilter.EnvoyFilterPatcher::clusters);
  private final XdsGenerator grpcClusters = new ClusterGenerator();
  private final XdsGenerator endpoints = new EndpointGenerator();
  private final XdsGenerator grpcListeners = new GrpcListenerGenerator();
  private final XdsGenerator grpcRoutes = new GrpcRouteGenerator();
  // EnvoyFilter patches go on last, over what istiod's generators would emit
  private final XdsGenerator sidecarListeners =
      patched(
          Http10.accepting(new SidecarListenerGenerator()),
          dev.bowline.controlplane.xds.gen.envoyfilter.EnvoyFilterPatcher::listeners);
  private final XdsGenerator sidecarRoutes =
      patched(
          new SidecarRouteGenerator(),
          dev.bowline.controlplane.xds.gen.envoyfilter.EnvoyFilterPatcher::routes);

  private final XdsGenerator gatewayListeners =
      patched(
          Http10.accepting(new GatewayListenerGenerator()),
          dev.bowline.controlplane.xds.gen.envoyfilter.EnvoyFilterPatcher::listeners);
  private final XdsGenerator gatewayRoutes =
      patched(
          new GatewayRouteGenerator(),
          dev.bowline.controlplane.xds.gen.envoyfilter.EnvoyFilterPatcher::routes);
  private final XdsGenerator secrets = new SecretGenerator();

  /** How EnvoyFilter patches apply to one generator's output. */
  @FunctionalInterface
  private interface Patcher {
    java.util.SortedMap<String, com.google.protobuf.Message> apply(
        java.util.SortedMap<String, com.google.protobuf.Message> out,
        Proxy proxy,
        java.util.List<dev.bowline.controlplane.model.ConfigInputs.EnvoyFilterPatch> patches);
  }

  private static XdsGenerator patched(XdsGenerator g, Patcher patcher) {
    return (proxy, push, names) -> {
      var out = g.generate(proxy, push, names);
      var patches = push.envoyFilterPatches(proxy);
      return patches.isEmpty() ? out : patcher.apply(out, proxy, patches);
    };
  }

  /** The default set of generators. */
  public Generators() {}

  /** The generator for {@code typeUrl} and {@code proxy}; empty if the type is not served. */
  public Optional<XdsGenerator> forType(Proxy proxy, String typeUrl) {
    return switch (typeUrl) {
      case TypeUrls.CLUSTER -> Optional.of(proxy.isProxylessGrpc() ? grpcClusters : clusters);
      case TypeUrls.ENDPOINT -> Optional.of(endpoints);
      case TypeUrls.LISTENER ->
          Optional.of(
              proxy.isProxylessGrpc()
                  ? grpcListeners
                  : proxy.type() == NodeType.ROUTER ? gatewayListeners : sidecarListeners);
      case TypeUrls.ROUTE ->
          Optional.of(
              proxy.isProxylessGrpc()
                  ? grpcRoutes
                  : proxy.type() == NodeType.ROUTER ? gatewayRoutes : sidecarRoutes);
      case TypeUrls.SECRET -> Optional.of(secrets);
      default -> Optional.empty();
    };
  }
}
