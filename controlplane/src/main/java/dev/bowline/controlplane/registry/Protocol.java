package dev.bowline.controlplane.registry;

import java.util.Locale;

/**
 * A service port's application protocol, as Istio names it. Unknown or absent protocols are {@link
 * #UNSUPPORTED}, which Istio treats as "detect it" (protocol sniffing).
 */
public enum Protocol {
  HTTP,
  HTTP2,
  HTTPS,
  GRPC,
  GRPC_WEB,
  TCP,
  TLS,
  MONGO,
  REDIS,
  MYSQL,
  UNSUPPORTED;

  /** Parses an explicit protocol name case-insensitively ({@code "grpc"}, {@code "HTTP"}). */
  public static Protocol parse(String name) {
    String n = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (Protocol p : values()) {
      if (p.name().equals(n)) {
        return p;
      }
    }
    return UNSUPPORTED;
  }

  /**
   * Istio's port-name convention: the protocol is the name's prefix before the first {@code -}
   * ({@code grpc-api} is GRPC, {@code http} is HTTP); anything else is {@link #UNSUPPORTED}.
   */
  public static Protocol fromPortName(String portName) {
    int dash = portName.indexOf('-');
    return parse(dash < 0 ? portName : portName.substring(0, dash));
  }

  /** Whether requests on this port are HTTP (so routes apply). */
  public boolean isHttp() {
    return this == HTTP || this == HTTP2 || this == GRPC || this == GRPC_WEB;
  }
}
