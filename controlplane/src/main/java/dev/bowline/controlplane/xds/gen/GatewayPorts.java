package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Endpoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The listeners a gateway proxy needs, from the servers of the Gateways that select it, merged as
 * istiod merges them: one listener per (bind address, port).
 *
 * <p>The port a server asks for is the gateway Service's port ({@code 80}); the proxy listens on
 * that Service's target port when the proxy is one of its endpoints ({@code 80 -> 8080} for Istio's
 * {@code istio-ingressgateway}, so the gateway needs no root), else on the server's port itself.
 * The address is the server's {@code bind}, else, for a proxy nothing redirects traffic to ({@code
 * INTERCEPTION_MODE=NONE}, local mode) its own address, else {@code 0.0.0.0}.
 *
 * <p>Three kinds of listener: plaintext HTTP (HTTP, HTTP2, GRPC; an HTTP connection manager taking
 * RDS {@code http.<port>}), TCP (a TCP proxy) and TLS (HTTPS and TLS servers with a {@code
 * tls.mode}: one filter chain per server, or per SNI route for PASSTHROUGH, decision 0022). The
 * first server of a port decides its kind; servers of another kind on that port are dropped
 * (istiod's rule: protocols on one port must agree).
 */
final class GatewayPorts {
  private GatewayPorts() {}

  /**
   * One listener.
   *
   * @param address where it binds
   * @param port the port it listens on
   * @param kind plaintext HTTP, TCP or TLS
   * @param servers the servers it serves, in Gateway order
   */
  record ListenerPort(String address, int port, Kind kind, List<GatewayServer> servers) {
    /** Whether it is a plaintext HTTP listener taking RDS {@link #routeName()}. */
    boolean http() {
      return kind == Kind.HTTP;
    }

    /** Istio's listener name: {@code address_port}. */
    String listenerName() {
      return address + "_" + port;
    }

    /** Istio's gateway route configuration name: {@code http.<port>}. */
    String routeName() {
      return "http." + port;
    }
  }

  /** What a listener serves. */
  enum Kind {
    HTTP,
    TCP,
    TLS
  }

  /** The kind of listener a server needs, or null when it cannot be served. */
  static @org.jspecify.annotations.Nullable Kind kind(GatewayServer s) {
    if (s.isPlainHttp()) {
      return Kind.HTTP;
    }
    if (s.tlsMode().isEmpty()) {
      return !s.protocol().isHttp() && isTcp(s) ? Kind.TCP : null;
    }
    return switch (s.protocol()) {
      case HTTPS, TLS -> Kind.TLS;
      default -> null;
    };
  }

  /** Istio's route configuration name for an HTTPS server: {@code https.443.https.gw.ns}. */
  static String httpsRouteName(GatewayServer s) {
    return "https." + s.port() + "." + s.portName() + "." + s.gatewayName() + "." + s.namespace();
  }

  static List<ListenerPort> of(Proxy proxy, PushContext push) {
    Map<String, ListenerPort> byAddress = new LinkedHashMap<>();
    for (GatewayServer s : push.config().gateways().servers(proxy)) {
      Kind kind = kind(s);
      if (kind == null) {
        continue; // e.g. HTTPS without a tls.mode: invalid, never served
      }
      String address =
          !s.bind().isEmpty() ? s.bind() : proxy.isLocalMode() ? proxy.ipAddress() : "0.0.0.0";
      int port = targetPort(s.port(), proxy, push);
      String key = address + "_" + port;
      ListenerPort existing = byAddress.get(key);
      if (existing == null) {
        byAddress.put(key, new ListenerPort(address, port, kind, List.of(s)));
      } else if (existing.kind() == kind) {
        List<GatewayServer> servers = new ArrayList<>(existing.servers());
        servers.add(s);
        byAddress.put(key, new ListenerPort(address, port, kind, servers));
      }
      // else: a protocol conflict on one port; the first server's protocol wins, as in istiod.
    }
    return List.copyOf(byAddress.values());
  }

  private static boolean isTcp(GatewayServer s) {
    return switch (s.protocol()) {
      case TCP, MONGO, REDIS, MYSQL -> true;
      default -> false;
    };
  }

  /** The port the proxy listens on for a server's port (the gateway Service's target port). */
  static int targetPort(int serverPort, Proxy proxy, PushContext push) {
    for (Endpoint e : push.serviceInstances(proxy)) {
      if (e.servicePort() == serverPort) {
        return e.port();
      }
    }
    return serverPort;
  }
}
