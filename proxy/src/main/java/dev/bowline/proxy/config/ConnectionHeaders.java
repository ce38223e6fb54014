package dev.bowline.proxy.config;

import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * The connection manager's own request and response headers, resolved from the config once.
 *
 * @param via {@code via}: appended to each request's and upstream response's {@code via} header;
 *     null when unset (nothing appended)
 * @param server {@code server_header_transformation}: what becomes of an upstream response's {@code
 *     server} header
 * @param stripPort {@code strip_matching_host_port} / {@code strip_any_host_port}: which port
 *     leaves the request's host before routing
 * @param stripTrailingHostDot {@code strip_trailing_host_dot}: {@code example.com.} becomes {@code
 *     example.com} before routing
 * @param appendXForwardedPort {@code append_x_forwarded_port}: the listener's port in {@code
 *     x-forwarded-port} when the request has none (or, with {@code use_remote_address} and no
 *     trusted hops, always)
 * @param schemeToOverwrite {@code scheme_header_transformation.scheme_to_overwrite}: every
 *     request's scheme ({@code x-forwarded-proto}, an HTTP/2 upstream's {@code :scheme}); null when
 *     unset
 * @param schemeMatchUpstream {@code scheme_header_transformation.match_upstream}: an HTTP/2
 *     upstream's {@code :scheme} is its own transport's (https over TLS)
 * @param userAgent {@code add_user_agent}: the bootstrap node's cluster, set as every request's
 *     {@code x-envoy-downstream-service-cluster} and as its {@code user-agent} when it has none;
 *     null when off
 * @param serviceNode with {@code add_user_agent}, the node's id as {@code
 *     x-envoy-downstream-service-node}; null when off or the id is empty
 */
public record ConnectionHeaders(
    @Nullable AsciiString via,
    Server server,
    StripPort stripPort,
    boolean stripTrailingHostDot,
    boolean appendXForwardedPort,
    @Nullable AsciiString schemeToOverwrite,
    boolean schemeMatchUpstream,
    @Nullable AsciiString userAgent,
    @Nullable AsciiString serviceNode) {
  /** Envoy's defaults: no via, the server header overwritten with {@code server_name}. */
  public static final ConnectionHeaders DEFAULTS =
      new ConnectionHeaders(
          null, Server.OVERWRITE, StripPort.NONE, false, false, null, false, null, null);

  /** Whether the host is rewritten before routing (off by default: nothing done per request). */
  public boolean normalizesHost() {
    return stripPort != StripPort.NONE || stripTrailingHostDot;
  }

  /**
   * Envoy's {@code maybeNormalizeHost}: {@code host} without its trailing dot and without its port
   * when {@link #stripPort} says so ({@code listenerPort} for MATCHING); {@code host} itself when
   * nothing changes.
   */
  public String normalizeHost(String host, int listenerPort) {
    int close = host.lastIndexOf(']'); // an IPv6 literal's colons are not a port's
    int colon = host.lastIndexOf(':');
    int portAt = colon > close ? colon : -1;
    String name = portAt < 0 ? host : host.substring(0, portAt);
    String port = portAt < 0 ? "" : host.substring(portAt);
    if (stripTrailingHostDot && name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    if (!port.isEmpty()) {
      boolean strip =
          switch (stripPort) {
            case NONE -> false;
            case ANY -> true;
            case MATCHING -> port.equals(":" + listenerPort);
          };
      if (strip) {
        port = "";
      }
    }
    String out = port.isEmpty() ? name : name + port;
    return out.equals(host) ? host : out;
  }

  /** Which host port the connection manager strips. */
  public enum StripPort {
    NONE,
    /** {@code strip_matching_host_port}: the listener's own port. */
    MATCHING,
    /** {@code strip_any_host_port}: any port. */
    ANY
  }

  /** Envoy's {@code ServerHeaderTransformation}. */
  public enum Server {
    /** {@code server_name} replaces the upstream's. */
    OVERWRITE,
    /** {@code server_name} only when the upstream sent none. */
    APPEND_IF_ABSENT,
    /** The upstream's, or none. */
    PASS_THROUGH
  }
}
