package dev.bowline.controlplane.xds.gen;

import java.util.Optional;

/**
 * Istio's cluster names: {@code outbound|8080|v1|forecast.weather.svc.cluster.local}, {@code
 * inbound|8080||}.
 *
 * @param direction {@code outbound} or {@code inbound}
 * @param port the service port
 * @param subset the subset, empty for none
 * @param host the hostname, empty for inbound clusters
 */
public record ClusterName(String direction, int port, String subset, String host) {
  /** {@code outbound|port|subset|host}. */
  public static String outbound(int port, String subset, String host) {
    return "outbound|" + port + "|" + subset + "|" + host;
  }

  /** {@code inbound|port||}. */
  public static String inbound(int port) {
    return "inbound|" + port + "||";
  }

  /** Parses an Istio cluster name; empty if {@code name} is not one. */
  public static Optional<ClusterName> parse(String name) {
    // Hot: runs per watched cluster on EDS pushes, so no regex.
    int a = name.indexOf('|');
    int b = a < 0 ? -1 : name.indexOf('|', a + 1);
    int c = b < 0 ? -1 : name.indexOf('|', b + 1);
    if (c < 0 || name.indexOf('|', c + 1) >= 0) {
      return Optional.empty();
    }
    String direction = name.substring(0, a);
    if (!direction.equals("outbound") && !direction.equals("inbound")) {
      return Optional.empty();
    }
    try {
      int port = Integer.parseInt(name, a + 1, b, 10);
      return Optional.of(
          new ClusterName(direction, port, name.substring(b + 1, c), name.substring(c + 1)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return direction + "|" + port + "|" + subset + "|" + host;
  }
}
