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
  private final XdsGenerator clusters = new ClusterGenerator();
  private final XdsGenerator endpoints = new EndpointGenerator();
  private final XdsGenerator grpcListeners = new GrpcListenerGenerator();
  private final XdsGenerator grpcRoutes = new GrpcRouteGenerator();
  private final XdsGenerator sidecarListeners = new SidecarListenerGenerator();
  private final XdsGenerator sidecarRoutes = new SidecarRouteGenerator();
  private final XdsGenerator gatewayListeners = new GatewayListenerGenerator();
  private final XdsGenerator gatewayRoutes = new GatewayRouteGenerator();

  /** The default set of generators. */
  public Generators() {}

  /** The generator for {@code typeUrl} and {@code proxy}; empty if the type is not served. */
  public Optional<XdsGenerator> forType(Proxy proxy, String typeUrl) {
    return switch (typeUrl) {
      case TypeUrls.CLUSTER -> Optional.of(clusters);
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
      default -> Optional.empty();
    };
  }
}
