package dev.bowline.controlplane.model;

import dev.bowline.controlplane.registry.Protocol;
import java.util.List;
import java.util.Objects;

/**
 * One {@code servers[]} entry of a Gateway that selects a proxy, as istiod merges them per port.
 *
 * @param gateway the Gateway's {@code namespace/name}
 * @param index the server's position in the Gateway's {@code servers} (for messages)
 * @param port the server's port number (the gateway Service's port, e.g. 80)
 * @param portName the port's name (may be empty)
 * @param protocol the port's protocol ({@code HTTP}, {@code HTTPS}, {@code TCP}, ...)
 * @param bind the server's {@code bind} address, or empty
 * @param hosts the server's hosts in {@code namespace/host} form ({@code *&#47;} added when the
 *     namespace part is absent)
 * @param tlsMode the server's {@code tls.mode} ({@code SIMPLE}, {@code PASSTHROUGH}, ...), or empty
 * @param tls the server's whole {@code tls} block, if it has one
 */
public record GatewayServer(
    String gateway,
    int index,
    int port,
    String portName,
    Protocol protocol,
    String bind,
    List<String> hosts,
    String tlsMode,
    java.util.Optional<GatewayTls> tls) {
  /** A server without a {@code tls} block. */
  public GatewayServer(
      String gateway,
      int index,
      int port,
      String portName,
      Protocol protocol,
      String bind,
      List<String> hosts,
      String tlsMode) {
    this(
        gateway, index, port, portName, protocol, bind, hosts, tlsMode, java.util.Optional.empty());
  }

  public GatewayServer {
    Objects.requireNonNull(gateway, "gateway");
    Objects.requireNonNull(portName, "portName");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(bind, "bind");
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(tlsMode, "tlsMode");
    Objects.requireNonNull(tls, "tls");
  }

  /** The Gateway's name. */
  public String gatewayName() {
    return gateway.substring(gateway.indexOf('/') + 1);
  }

  /**
   * Whether the server redirects plaintext requests to {@code https} ({@code tls.httpsRedirect}).
   */
  public boolean httpsRedirect() {
    return tls.map(GatewayTls::httpsRedirect).orElse(false);
  }

  /** The Gateway's namespace. */
  public String namespace() {
    return gateway.substring(0, gateway.indexOf('/'));
  }

  /** Whether requests on this server are plaintext HTTP (HTTP, HTTP2, GRPC), routed by RDS. */
  public boolean isPlainHttp() {
    return protocol.isHttp() && tlsMode.isEmpty();
  }
}
