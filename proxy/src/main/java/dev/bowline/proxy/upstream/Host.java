package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.SocketAddr;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/** One endpoint as seen from one event loop: its idle HTTP/1.1 connections and load. */
public final class Host {
  final SocketAddr address;
  final int weight;
  final ArrayDeque<Channel> idle = new ArrayDeque<>();
  int active;

  /** The HTTP/2 connection to this host from this loop, once connected (HTTP/2 clusters). */
  @org.jspecify.annotations.Nullable Channel h2;

  /** Requests waiting for {@link #h2} to connect. */
  final ArrayDeque<java.util.function.Consumer<@org.jspecify.annotations.Nullable Channel>>
      h2Waiting = new ArrayDeque<>();

  int currentWeight; // smooth weighted round robin state

  /** The TLS towards this host (by the cluster's transport socket matches), null for plaintext. */
  final dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable UpstreamTls tls;

  Host(
      SocketAddr address,
      int weight,
      dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable UpstreamTls tls) {
    this.address = address;
    this.weight = weight;
    this.tls = tls;
  }

  public SocketAddr address() {
    return address;
  }

  void closeIdle() {
    for (Channel c : idle) {
      c.close();
    }
    idle.clear();
    Channel h = h2;
    if (h != null && active == 0) {
      h.close();
    }
  }
}
