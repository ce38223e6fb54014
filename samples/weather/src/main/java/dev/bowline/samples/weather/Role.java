package dev.bowline.samples.weather;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The four services of the Weather Forecast app, with the ports and port names the book uses. */
public enum Role {
  /** The web page and its JSON API; calls forecast and advertisement. */
  FRONTEND("frontend", 3000),
  /** Weather by city; v2 also calls recommendation. */
  FORECAST("forecast", 3002),
  /** An advertisement for the page. */
  ADVERTISEMENT("advertisement", 3003),
  /** Clothing and activity recommendations for a forecast; also serves gRPC. */
  RECOMMENDATION("recommendation", 3005);

  private final String serviceName;
  private final int defaultPort;

  Role(String serviceName, int defaultPort) {
    this.serviceName = serviceName;
    this.defaultPort = defaultPort;
  }

  /** The Kubernetes/Istio service name, e.g. {@code forecast}. */
  public String serviceName() {
    return serviceName;
  }

  /** The service port of the book's deployment (3000, 3002, 3003, 3005). */
  public int defaultPort() {
    return defaultPort;
  }

  /** The Istio-style name of the HTTP port, e.g. {@code http-forecast} (protocol by prefix). */
  public String portName() {
    return "http-" + serviceName;
  }

  /** Parses a role by its service name, e.g. {@code forecast}. */
  public static Role parse(String name) {
    for (Role role : values()) {
      if (role.serviceName.equals(name.toLowerCase(Locale.ROOT))) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "--role: unknown role '"
            + name
            + "'; expected one of "
            + Arrays.stream(values()).map(Role::serviceName).collect(Collectors.joining("|")));
  }
}
