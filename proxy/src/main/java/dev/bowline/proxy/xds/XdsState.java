package dev.bowline.proxy.xds;

import com.google.protobuf.Message;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.RouteTable;
import java.util.Map;

/**
 * What the xDS client has warmed and may be served: runtime records, and for config dumps the
 * protos and versions they came from. {@code initialized}: LDS and CDS have each answered and what
 * they named first has warmed (endpoints, route tables), or stopped being waited for (Envoy's
 * server initialisation; {@code /ready} says LIVE from then on). {@code protos}: per type URL, the
 * accepted resources by name.
 */
public record XdsState(
    Map<String, ListenerConfig> listeners,
    Map<String, RouteTable> routes,
    Map<String, ClusterConfig> clusters,
    Map<String, Endpoints> endpoints,
    Map<String, Map<String, Accepted>> protos,
    boolean initialized) {
  public XdsState {
    listeners = Map.copyOf(listeners);
    routes = Map.copyOf(routes);
    clusters = Map.copyOf(clusters);
    endpoints = Map.copyOf(endpoints);
    protos = copyOfEach(protos);
  }

  public static XdsState empty() {
    return new XdsState(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), false);
  }

  /**
   * An immutable copy of {@code byType}, its maps included; a map that already is immutable is kept
   * as it is ({@link Map#copyOf} returns it), so a type whose resources did not change since the
   * last publication costs nothing here.
   */
  private static Map<String, Map<String, Accepted>> copyOfEach(
      Map<String, Map<String, Accepted>> byType) {
    Map<String, Map<String, Accepted>> out = new java.util.HashMap<>();
    byType.forEach((type, byName) -> out.put(type, Map.copyOf(byName)));
    return Map.copyOf(out);
  }

  /** An accepted resource for the config dump, in {@link #protos()} under its type URL and name. */
  public record Accepted(
      String typeUrl, String name, String version, Message proto, long acceptedAtMillis) {}
}
