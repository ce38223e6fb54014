package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.SocketAddr;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/** One endpoint as seen from one event loop: its idle HTTP/1.1 connections and load. */
public final class Host {
  final SocketAddr address;
  final int weight;
  final int priority;
  final String locality;
  final ArrayDeque<Channel> idle = new ArrayDeque<>();
  int active;

  /** Connections from this loop to this host, open or opening. */
  int connections;

  /** The cluster-wide state: circuit-breaker counts, outlier detection. */
  final ClusterState state;

  /** This endpoint's outlier-detection state, shared by all loops. */
  final HostHealth health;

  /** Requests waiting for a connection to this host (the cluster is at max_connections). */
  final ArrayDeque<Worker.Pending> pending = new ArrayDeque<>();

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
      int priority,
      String locality,
      ClusterState state,
      dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable UpstreamTls tls) {
    this.address = address;
    this.weight = weight;
    this.priority = priority;
    this.locality = locality;
    this.state = state;
    this.health = state.health(address);
    this.tls = tls;
  }

  public SocketAddr address() {
    return address;
  }

  /** A request starts on this host (counts toward {@code max_requests}). */
  void begin() {
    active++;
    state.requests.incrementAndGet();
  }

  /** A request on this host ended. */
  void end() {
    active--;
    state.requests.decrementAndGet();
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
