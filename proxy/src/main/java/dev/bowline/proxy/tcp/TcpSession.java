package dev.bowline.proxy.tcp;

import dev.bowline.proxy.http.filter.ResponseFlag;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import org.jspecify.annotations.Nullable;

/**
 * What the TCP proxy knows of one downstream connection, for the network filters before it (TCP
 * stats): the cluster it chose, the upstream connection once made, and Envoy's response flags.
 * Lives on the downstream channel; read and written only on its event loop.
 */
public final class TcpSession {
  static final AttributeKey<TcpSession> KEY = AttributeKey.valueOf("bowline.tcp_session");

  private @Nullable String cluster;
  private @Nullable Channel upstream;
  private dev.bowline.proxy.config.@Nullable ClusterConfig clusterConfig;
  private int flags;

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
