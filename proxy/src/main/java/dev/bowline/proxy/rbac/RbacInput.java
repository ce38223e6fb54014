package dev.bowline.proxy.rbac;

import com.google.protobuf.Struct;
import dev.bowline.proxy.tls.TlsPeer;
import org.jspecify.annotations.Nullable;

/**
 * What RBAC matchers look at: the connection (addresses, TLS peer, SNI) and, for the HTTP filter,
 * the request head and the stream's dynamic metadata. Addresses are raw bytes (4 or 16), as {@link
 * java.net.InetAddress#getAddress()} gives them.
 */
public interface RbacInput {
  /**
   * The request header {@code name} (lower case; {@code :method}, {@code :path}, {@code
   * :authority}, {@code :scheme} included), several values joined by {@code ,}; null when absent or
   * on a network filter.
   */
  @Nullable String header(String name);

  /** The request path without its query; null on a network filter. */
  @Nullable String urlPath();

  /** The local address the connection came to. */
  byte[] destinationIp();

  /** The local port the connection came to. */
  int destinationPort();

  /** The peer of the downstream connection. */
  byte[] directRemoteIp();

  /** The original client: from x-forwarded-for as the connection manager trusts it. */
  byte[] remoteIp();

  /** The connection's remote address (Envoy's deprecated {@code source_ip}). */
  default byte[] sourceIp() {
    return directRemoteIp();
  }

  /** The verified TLS peer; null on a plaintext connection. */
  @Nullable TlsPeer tlsPeer();

  /** The SNI the client sent; empty if none. */
  String requestedServerName();

  /** The dynamic metadata filter {@code filter} emitted; null when none (always on the network). */
  @Nullable Struct dynamicMetadata(String filter);
}
