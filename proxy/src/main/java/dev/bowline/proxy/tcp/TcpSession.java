package dev.bowline.proxy.tcp;

import dev.bowline.proxy.http.filter.ResponseFlag;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import org.jspecify.annotations.Nullable;

/**
 * What the TCP proxy knows of one downstream connection, for the network filters before it (TCP
 * stats) and its access logs (Envoy's connection {@code StreamInfo}): the cluster it chose, the
 * upstream connection once made, Envoy's response flags, when it started and the bytes either way.
 * Lives on the downstream channel; read and written only on its event loop.
 */
public final class TcpSession implements dev.bowline.proxy.http.filter.StreamInfo {
  static final AttributeKey<TcpSession> KEY = AttributeKey.valueOf("bowline.tcp_session");

  private final Channel downstream;
  private final long startEpochMillis = System.currentTimeMillis();
  private final long startNanos = System.nanoTime();
  private long endNanos;
  long bytesReceived; // from the downstream, relayed or not
  long bytesSent; // to the downstream
  private @Nullable String cluster;
  private @Nullable Channel upstream;
  private dev.bowline.proxy.config.@Nullable ClusterConfig clusterConfig;
  private int flags;

  TcpSession(Channel downstream) {
    this.downstream = downstream;
  }

  /** The connection ended: its duration stops here. */
  void end() {
    if (endNanos == 0) {
      endNanos = System.nanoTime();
    }
  }

  @Override
  public long startEpochMillis() {
    return startEpochMillis;
  }

  @Override
  public long startNanos() {
    return startNanos;
  }

  @Override
  public long durationNanos() {
    return endNanos == 0 ? 0 : Math.max(1, endNanos - startNanos);
  }

  @Override
  public long responseStartNanos() {
    return 0;
  }

  @Override
  public int responseCode() {
    return 0; // Envoy: a TCP connection has none (%RESPONSE_CODE% prints 0)
  }

  @Override
  public int responseFlags() {
    return flags;
  }

  @Override
  public long bytesReceived() {
    return bytesReceived;
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  @Override
  public String protocol() {
    return ""; // Envoy: no HTTP protocol ("-")
  }

  @Override
  public io.netty.handler.codec.http.HttpHeaders requestHeaders() {
    return io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE;
  }

  @Override
  public String method() {
    return "";
  }

  @Override
  public String path() {
    return "";
  }

  @Override
  public io.netty.handler.codec.http.@Nullable HttpHeaders responseHeaders() {
    return null;
  }

  @Override
  public io.netty.handler.codec.http.@Nullable HttpHeaders responseTrailers() {
    return null;
  }

  @Override
  public @Nullable String upstreamCluster() {
    return cluster;
  }

  @Override
  public dev.bowline.proxy.config.@Nullable ClusterConfig upstreamClusterConfig() {
    return clusterConfig;
  }

  @Override
  public @Nullable String upstreamHost() {
    var up = upstream;
    return up == null || up.remoteAddress() == null
        ? null
        : dev.bowline.proxy.http.filter.StreamInfo.ipPort(up.remoteAddress());
  }

  @Override
  public @Nullable String upstreamLocalAddress() {
    var up = upstream;
    return up == null || up.localAddress() == null
        ? null
        : dev.bowline.proxy.http.filter.StreamInfo.ipPort(up.localAddress());
  }

  @Override
  public @Nullable String routeName() {
    return null;
  }

  @Override
  public String downstreamRemoteAddress() {
    return dev.bowline.proxy.http.filter.StreamInfo.ipPort(downstream.remoteAddress());
  }

  /** The restored original destination of a captured connection, as the HTTP streams report. */
  @Override
  public String downstreamLocalAddress() {
    return dev.bowline.proxy.http.filter.StreamInfo.ipPort(
        dev.bowline.proxy.config.ConnectionInfo.localAddress(downstream));
  }

  @Override
  public Channel downstreamConnection() {
    return downstream;
  }

  @Override
  public <T> @Nullable T get(dev.bowline.proxy.http.filter.StreamInfo.StateKey<T> key) {
    return null; // no HTTP filter runs on a TCP connection: no filter state, no dynamic metadata
  }

  @Override
  public <T> void put(dev.bowline.proxy.http.filter.StreamInfo.StateKey<T> key, T value) {
    // nothing reads it
  }

  /** The session of downstream connection {@code ch}, null when no TCP proxy runs on it. */
  public static @Nullable TcpSession of(Channel ch) {
    return ch.attr(KEY).get();
  }

  /** The chosen upstream cluster, null before one is chosen. */
  public @Nullable String cluster() {
    return cluster;
  }

  /** The chosen cluster's config, null before one is chosen or when it does not exist (NC). */
  public dev.bowline.proxy.config.@Nullable ClusterConfig clusterConfig() {
    return clusterConfig;
  }

  /** The upstream connection, null before it is made. */
  public @Nullable Channel upstream() {
    return upstream;
  }

  /** Envoy's response flags as {@link ResponseFlag#bit()}s. */
  public int flags() {
    return flags;
  }

  void cluster(String name) {
    cluster = name;
  }

  void clusterConfig(dev.bowline.proxy.config.ClusterConfig c) {
    clusterConfig = c;
  }

  void upstream(Channel ch) {
    upstream = ch;
  }

  void flag(ResponseFlag f) {
    flags |= f.bit();
  }
}
