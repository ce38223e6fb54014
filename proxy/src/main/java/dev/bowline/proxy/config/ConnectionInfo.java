package dev.bowline.proxy.config;

import java.util.List;

/**
 * What a new downstream connection looks like to filter chain matching: its addresses and what the
 * listener filters found ({@code tls_inspector}: TLS, SNI, ALPN; {@code http_inspector}: {@code
 * http/1.1}, {@code h2c}).
 *
 * @param transportProtocol {@code tls} or {@code raw_buffer}
 * @param serverName SNI, empty if none
 * @param applicationProtocols ALPN offered by the client, or the sniffed HTTP version
 */
public record ConnectionInfo(
    String destIp,
    int destPort,
    String sourceIp,
    int sourcePort,
    String transportProtocol,
    String serverName,
    List<String> applicationProtocols) {
  public ConnectionInfo {
    applicationProtocols = List.copyOf(applicationProtocols);
  }

  /**
   * The chosen connection's info, on its channel (filters read the SNI from it, e.g. RBAC's {@code
   * requested_server_name}).
   */
  public static final io.netty.util.AttributeKey<ConnectionInfo> KEY =
      io.netty.util.AttributeKey.valueOf("bowline.connection_info");

  /** The info of connection {@code ch} (or, for an HTTP/2 stream, of its parent); null if none. */
  public static @org.jspecify.annotations.Nullable ConnectionInfo of(io.netty.channel.Channel ch) {
    ConnectionInfo i = ch.attr(KEY).get();
    if (i == null && ch.parent() != null) {
      i = ch.parent().attr(KEY).get();
    }
    return i;
  }

  /**
   * The original destination the {@code envoy.filters.listener.original_dst} listener filter read
   * ({@code SO_ORIGINAL_DST}), on the accepted connection's channel: Envoy's restored local
   * address. Absent when the listener has no such filter or the socket had none to give.
   */
  public static final io.netty.util.AttributeKey<java.net.InetSocketAddress> RESTORED_LOCAL =
      io.netty.util.AttributeKey.valueOf("bowline.restored_local_address");

  /**
   * The restored local address of connection {@code ch} (or, for an HTTP/2 stream, of its parent),
   * null when none was restored: Envoy's {@code localAddressRestored()}.
   */
  public static java.net.@org.jspecify.annotations.Nullable InetSocketAddress restoredLocal(
      io.netty.channel.Channel ch) {
    // hasAttr first: attr() would add an empty attribute to every connection that has none
    if (ch.hasAttr(RESTORED_LOCAL)) {
      return ch.attr(RESTORED_LOCAL).get();
    }
    io.netty.channel.Channel p = ch.parent();
    if (p != null && !(p instanceof io.netty.channel.ServerChannel) && p.hasAttr(RESTORED_LOCAL)) {
      return p.attr(RESTORED_LOCAL).get();
    }
    return null;
  }

  /**
   * The local address of connection {@code ch} as Envoy's connection reports it: the restored
   * original destination when the {@code original_dst} listener filter read one, else the socket's
   * own. Everything that reads the downstream local address (access logs, RBAC, ext_authz) reads it
   * here.
   */
  public static java.net.@org.jspecify.annotations.Nullable SocketAddress localAddress(
      io.netty.channel.Channel ch) {
    java.net.InetSocketAddress r = restoredLocal(ch);
    return r != null ? r : ch.localAddress();
  }

  /** A connection nothing was detected on: {@code raw_buffer}, no SNI, no ALPN. */
  public static ConnectionInfo plain(String destIp, int destPort, String sourceIp, int sourcePort) {
    return new ConnectionInfo(destIp, destPort, sourceIp, sourcePort, "raw_buffer", "", List.of());
  }
}
