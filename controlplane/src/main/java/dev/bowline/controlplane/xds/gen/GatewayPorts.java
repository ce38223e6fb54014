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
 * <p>Only plaintext servers are served: HTTP, HTTP2 and GRPC through an HTTP connection manager
 * taking RDS {@code http.<port>}, TCP through a TCP proxy. A port whose first server is HTTP takes
 * only HTTP servers (istiod's rule: protocols on one port must agree). TLS servers (HTTPS, TLS, any
 * {@code tls.mode}) are not served yet (decision 0014).
 */
final class GatewayPorts {
  private GatewayPorts() {}

  /**
   * One listener.
   *
   * @param address where it binds
   * @param port the port it listens on
   * @param http whether it is an HTTP listener (else TCP)
   * @param servers the servers it serves, in Gateway order
   */
  record ListenerPort(String address, int port, boolean http, List<GatewayServer> servers) {
    /** Istio's listener name: {@code address_port}. */
    String listenerName() {
      return address + "_" + port;
    }

    /** Istio's gateway route configuration name: {@code http.<port>}. */
    String routeName() {
      return "http." + port;
    }
  }

  static List<ListenerPort> of(Proxy proxy, PushContext push) {
    Map<String, ListenerPort> byAddress = new LinkedHashMap<>();
    for (GatewayServer s : push.config().gateways().servers(proxy)) {
      boolean http = s.isPlainHttp();
      boolean tcp = s.tlsMode().isEmpty() && !s.protocol().isHttp() && isTcp(s);
      if (!http && !tcp) {
        continue; // TLS servers: not served yet
      }
      String address =
          !s.bind().isEmpty() ? s.bind() : proxy.isLocalMode() ? proxy.ipAddress() : "0.0.0.0";
      int port = targetPort(s.port(), proxy, push);
      String key = address + "_" + port;
      ListenerPort existing = byAddress.get(key);
      if (existing == null) {
        byAddress.put(key, new ListenerPort(address, port, http, List.of(s)));
      } else if (existing.http() == http) {
        List<GatewayServer> servers = new ArrayList<>(existing.servers());
        servers.add(s);
        byAddress.put(key, new ListenerPort(address, port, http, servers));
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
