package dev.bowline.proxy.http.filter;

import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * What is known about one HTTP stream, for filters that observe it (metadata exchange, stats,
 * access logs): Envoy's {@code StreamInfo}. Read on the stream's event loop; values that are not
 * known yet are 0, null or empty.
 */
public interface StreamInfo {
  /** When the request head arrived, epoch milliseconds. */
  long startEpochMillis();

  /** When the request head arrived, {@link System#nanoTime()}. */
  long startNanos();

  /** Nanoseconds from the request head to the end of the response (0 while in flight). */
  long durationNanos();

  /** Nanoseconds from the request head to the first response byte (0 when none). */
  long responseStartNanos();

  /** The response status sent downstream; 0 when none was (reset before a response). */
  int responseCode();

  /**
   * The stream's response flags, a bit set of {@link ResponseFlag#bit()} ({@link ResponseFlags}).
   */
  int responseFlags();

  /**
   * Envoy's response code details: {@code via_upstream}, {@code route_not_found}, {@code
   * upstream_reset_before_response_started{connection_timeout}}, ...; null when unknown.
   */
  /**
   * Why the connection manager traces the request (Envoy's trace reason, {@code
   * dev.bowline.proxy.tracing.Sampling}'s digits): {@code '4'} when not traced or without tracing.
   */
  default char traceReason() {
    return '4';
  }

  default @Nullable String responseCodeDetails() {
    return null;
  }

  /**
   * The text of the local reply being formatted by {@code local_reply_config} ({@code
   * %LOCAL_REPLY_BODY%}); null otherwise (access logs print {@code -}).
   */
  default @Nullable String localReplyBody() {
    return null;
  }

  /** Request body bytes received from downstream. */
  long bytesReceived();

  /** Response body bytes sent downstream. */
  long bytesSent();

  /** {@code HTTP/1.1}, {@code HTTP/2}, {@code HTTP/1.0}. */
  String protocol();

  /** The request head as received (after the connection manager's own edits). */
  HttpHeaders requestHeaders();

  /** The request method. */
  String method();

  /** The request path with its query, as received. */
  String path();

  /** The response head sent downstream, once there is one. */
  @Nullable HttpHeaders responseHeaders();

  /** The response trailers sent downstream, once the response ended with some. */
  @Nullable HttpHeaders responseTrailers();

  /** The cluster the request was sent to, once chosen. */
  @Nullable String upstreamCluster();

  /**
   * The upstream cluster's observability name: its {@code alt_stat_name}, else its name (what
   * Envoy's tracer tags {@code upstream_cluster.name} with); null before a cluster is chosen.
   */
  default @Nullable String upstreamClusterStatName() {
    var c = upstreamClusterConfig();
    return c != null ? c.statName() : upstreamCluster();
  }

  /**
   * The chosen upstream cluster's config; null before one is chosen or when it does not exist.
   * {@link #upstreamClusterStatName} and {@link #clusterMetadata} read it.
   */
  default dev.bowline.proxy.config.@Nullable ClusterConfig upstreamClusterConfig() {
    return null;
  }

  /** The upstream host {@code ip:port}, once connected. */
  @Nullable String upstreamHost();

  /** The local {@code ip:port} of the upstream connection, once connected. */
  default @Nullable String upstreamLocalAddress() {
    return null;
  }

  /** The matched route's name, once routed ({@code ""} for an unnamed route). */
  @Nullable String routeName();

  /** The downstream peer's {@code ip:port}. */
  String downstreamRemoteAddress();

  /** The local {@code ip:port} the downstream connection came to. */
  String downstreamLocalAddress();

  /**
   * The downstream connection's TLS peer (verified chain, URI SANs) when it came over TLS; Envoy's
   * {@code downstreamAddressProvider().sslConnection()}.
   */
  default java.util.Optional<dev.bowline.proxy.tls.TlsPeer> downstreamTls() {
    return java.util.Optional.ofNullable(downstreamTlsPeer());
  }

  /**
   * The downstream connection (an HTTP/2 stream's parent connection); null when there is none. The
   * connection-level accessors below read it unless an implementation knows better.
   */
  default io.netty.channel.@Nullable Channel downstreamConnection() {
    return null;
  }

  /**
   * The downstream connection's local address (where it came to: the original destination of a
   * captured connection); null when not IP.
   */
  default java.net.@Nullable InetSocketAddress downstreamLocal() {
    var c = downstreamConnection();
    return c != null
            && dev.bowline.proxy.config.ConnectionInfo.localAddress(c)
                instanceof java.net.InetSocketAddress i
        ? i
        : null;
  }

  /** The downstream connection's peer (Envoy's direct remote address); null when not IP. */
  default java.net.@Nullable InetSocketAddress downstreamDirectRemote() {
    var c = downstreamConnection();
    return c != null && c.remoteAddress() instanceof java.net.InetSocketAddress i ? i : null;
  }

  /**
   * The original client as the connection manager trusts it (Envoy's downstream remote address):
   * with {@code use_remote_address}, the {@code x-forwarded-for} entry {@code xff_num_trusted_hops}
   * from the right (the one before the peer this proxy appended) when there are trusted hops, else
   * the peer; without it, the entry {@code xff_num_trusted_hops} from the right; each when it is an
   * IP literal, else the peer; null when not IP.
   */
  default java.net.@Nullable InetAddress downstreamRemoteIp() {
    var d = downstreamDirectRemote();
    return d == null ? null : d.getAddress();
  }

  /** The downstream connection's verified TLS peer; null on a plaintext connection. */
  default dev.bowline.proxy.tls.@Nullable TlsPeer downstreamTlsPeer() {
    var c = downstreamConnection();
    return c == null ? null : dev.bowline.proxy.tls.TlsPeer.of(c).orElse(null);
  }

  /**
   * The upstream connection's TLS peer (the server's verified chain and URI SANs, and this side's
   * own) once connected over TLS; null before, or on a plaintext upstream.
   */
  default dev.bowline.proxy.tls.@Nullable TlsPeer upstreamTlsPeer() {
    return null;
  }

  /**
   * {@code namespace} of the upstream cluster's {@code metadata.filter_metadata} ({@code
   * %CLUSTER_METADATA(...)%}); null before a cluster is chosen or when it has none there.
   */
  default com.google.protobuf.@Nullable Struct clusterMetadata(String namespace) {
    var c = upstreamClusterConfig();
    return c == null ? null : c.metadata().get(namespace);
  }

  /** The SNI the downstream client sent (from the listener's tls_inspector); empty if none. */
  default String requestedServerName() {
    var c = downstreamConnection();
    var info = c == null ? null : dev.bowline.proxy.config.ConnectionInfo.of(c);
    return info == null ? "" : info.serverName();
  }

  /** {@code a} as access logs print an address: {@code ip:port}, {@code -} when it is not IP. */
  static String ipPort(java.net.@Nullable SocketAddress a) {
    return a instanceof java.net.InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : "-";
  }

  /** Filter state: a value another filter of this stream put under {@code key}. */
  <T> @Nullable T get(StateKey<T> key);

  /** Sets filter state {@code key} for the rest of this stream. */
  <T> void put(StateKey<T> key, T value);

  /**
   * Envoy's dynamic metadata: the struct filter {@code filter} (e.g. {@code
   * envoy.filters.http.jwt_authn}, {@code istio_authn}) emitted for this stream; null when none.
   * RBAC's metadata matchers and access logs ({@code %DYNAMIC_METADATA(...)%}) read it.
   */
  default com.google.protobuf.@Nullable Struct dynamicMetadata(String filter) {
    java.util.Map<String, com.google.protobuf.Struct> all = get(DYNAMIC_METADATA);
    return all == null ? null : all.get(filter);
  }

  /**
   * The matched route's {@code metadata.filter_metadata} of {@code filter} (Istio's {@code istio});
   * null when none. Access logs read it ({@code %METADATA(ROUTE:...)%}).
   */
  default com.google.protobuf.@Nullable Struct routeMetadata(String filter) {
    return null;
  }

  /**
   * The matched virtual host's {@code metadata.filter_metadata} of {@code filter}; null when none
   * (Envoy's {@code %METADATA(VIRTUAL_HOST:...)%}).
   */
  default com.google.protobuf.@Nullable Struct virtualHostMetadata(String filter) {
    return null;
  }

  /**
   * Merges {@code fields} into the dynamic metadata of {@code filter} for the rest of this stream
   * (a field already there is replaced, as Envoy's {@code setDynamicMetadata} does).
   */
  default void setDynamicMetadata(String filter, com.google.protobuf.Struct fields) {
    java.util.Map<String, com.google.protobuf.Struct> all = get(DYNAMIC_METADATA);
    if (all == null) {
      all = new java.util.HashMap<>(4);
      put(DYNAMIC_METADATA, all);
    }
    com.google.protobuf.Struct old = all.get(filter);
    all.put(
        filter, old == null ? fields : old.toBuilder().putAllFields(fields.getFieldsMap()).build());
  }

  /** Where {@link #setDynamicMetadata} keeps its structs, by filter name. */
  StateKey<java.util.Map<String, com.google.protobuf.Struct>> DYNAMIC_METADATA =
      new StateKey<>("envoy.dynamic_metadata");

  /**
   * Envoy's {@code envoy.network.application_protocols} filter state: the ALPN the router offers on
   * a TLS upstream connection for this stream instead of the cluster's, by the upstream HTTP
   * protocol. Connections are pooled per override, as Envoy keys its pools on it.
   */
  StateKey<UpstreamAlpn> UPSTREAM_ALPN = new StateKey<>("envoy.network.application_protocols");

  /**
   * A typed key of filter state; compared by identity, so a filter package keeps its keys as
   * constants.
   *
   * @param <T> the value's type
   */
  final class StateKey<T> {
    private final String name;

    public StateKey(String name) {
      this.name = name;
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
