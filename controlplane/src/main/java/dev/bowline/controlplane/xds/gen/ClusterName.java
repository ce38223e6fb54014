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
    String[] p = name.split("\\|", -1);
    if (p.length != 4 || !(p[0].equals("outbound") || p[0].equals("inbound"))) {
      return Optional.empty();
    }
    try {
      return Optional.of(new ClusterName(p[0], Integer.parseInt(p[1]), p[2], p[3]));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return direction + "|" + port + "|" + subset + "|" + host;
  }
}
