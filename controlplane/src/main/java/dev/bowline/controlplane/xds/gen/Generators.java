package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.Proxy;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Chooses the generator for a proxy and a type URL: proxyless gRPC clients ({@code GENERATOR=grpc})
 * get istiod's grpc generator output; sidecars and gateways get CDS and EDS. Sidecar LDS and RDS
 * are not built yet: such requests are answered with no resources (and the server says so in its
 * log once per proxy), never left waiting.
 */
public final class Generators {
  private final XdsGenerator clusters = new ClusterGenerator();
  private final XdsGenerator endpoints = new EndpointGenerator();
  private final XdsGenerator grpcListeners = new GrpcListenerGenerator();
  private final XdsGenerator grpcRoutes = new GrpcRouteGenerator();
  private final XdsGenerator notBuilt = (proxy, push, names) -> new TreeMap<>();

  /** The default set of generators. */
  public Generators() {}

  /** The generator for {@code typeUrl} and {@code proxy}; empty if the type is not served. */
  public Optional<XdsGenerator> forType(Proxy proxy, String typeUrl) {
    return switch (typeUrl) {
      case TypeUrls.CLUSTER -> Optional.of(clusters);
      case TypeUrls.ENDPOINT -> Optional.of(endpoints);
      case TypeUrls.LISTENER -> Optional.of(proxy.isProxylessGrpc() ? grpcListeners : notBuilt);
      case TypeUrls.ROUTE -> Optional.of(proxy.isProxylessGrpc() ? grpcRoutes : notBuilt);
      default -> Optional.empty();
    };
  }

  /** Whether the sidecar generator for {@code typeUrl} is still to be built (LDS, RDS). */
  public static boolean notBuiltForSidecars(String typeUrl) {
    return typeUrl.equals(TypeUrls.LISTENER) || typeUrl.equals(TypeUrls.ROUTE);
  }
}
