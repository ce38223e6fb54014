package dev.bowline.controlplane.xds.gen;

import java.util.List;

/** The Envoy v3 type URLs the control plane serves, and the order a push sends them in. */
public final class TypeUrls {
  private TypeUrls() {}

  public static final String PREFIX = "type.googleapis.com/";
  public static final String CLUSTER = PREFIX + "envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = PREFIX + "envoy.config.listener.v3.Listener";
  public static final String ROUTE = PREFIX + "envoy.config.route.v3.RouteConfiguration";
  public static final String SECRET = PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret";

  /**
   * CDS before EDS, LDS before RDS, as the xDS protocol recommends (make before break); SDS last
   * (the listeners name the secrets).
   */
  public static final List<String> PUSH_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET);

  /** Whether an empty subscription of this type means "everything" (LDS and CDS only). */
  public static boolean wildcardByDefault(String typeUrl) {
    return typeUrl.equals(CLUSTER) || typeUrl.equals(LISTENER);
  }

  /** Istio's short name for a type: {@code cds}, {@code eds}, {@code lds}, {@code rds}. */
  public static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case CLUSTER -> "cds";
      case ENDPOINT -> "eds";
      case LISTENER -> "lds";
      case ROUTE -> "rds";
      case SECRET -> "sds";
      default -> typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    };
  }
}
