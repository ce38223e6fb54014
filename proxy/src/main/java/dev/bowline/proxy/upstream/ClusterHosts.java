package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.stats.ClusterStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's hosts on one event loop and the load balancer over them. Rebuilt when the cluster or
 * its endpoints change (identity of the immutable config objects); hosts that survive keep their
 * pooled connections.
 */
final class ClusterHosts {
  final ClusterConfig config;
  final Endpoints endpoints;
  final Host[] hosts;
  final boolean equalWeights;
  final int totalWeight;
  final ClusterStats stats;
  int next; // plain round robin cursor

  ClusterHosts(
      ClusterConfig config,
      Endpoints endpoints,
      @Nullable ClusterHosts previous,
      ClusterStats stats) {
    this.config = config;
    this.endpoints = endpoints;
    this.stats = stats;
    Map<Object, Host> old = new HashMap<>();
    if (previous != null) {
      for (Host h : previous.hosts) {
        old.put(h.address, h);
      }
    }
    List<Host> list = new ArrayList<>();
    int total = 0;
    boolean equal = true;
    for (Endpoints.Endpoint e : endpoints.endpoints()) {
      Host h = old.remove(e.address());
      var tls = config.transport().forEndpoint(e.socketMatch()).orElse(null);
      if (h == null || h.weight != e.weight() || !java.util.Objects.equals(h.tls, tls)) {
        if (h != null) {
          old.put(e.address(), h); // closed below; weight or TLS changed, start fresh
        }
        h = new Host(e.address(), e.weight(), tls);
      }
      list.add(h);
      total += e.weight();
      equal &= e.weight() == endpoints.endpoints().getFirst().weight();
    }
    for (Host gone : old.values()) {
      gone.closeIdle();
    }
    this.hosts = list.toArray(Host[]::new);
    this.totalWeight = total;
    this.equalWeights = equal;
  }

  /** The host at {@code address}, or null when the cluster has none there. */
  @Nullable Host find(SocketAddr address) {
    for (Host h : hosts) {
      if (h.address.equals(address)) {
        return h;
      }
    }
    return null;
  }

  /** The host for the next request, or null when the cluster has none. */
  @Nullable Host pick(RandomGenerator random) {
    int n = hosts.length;
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return hosts[0];
    }
    return switch (config.lbPolicy()) {
      case ROUND_ROBIN -> equalWeights ? hosts[next++ % n] : smoothWeighted();
      case RANDOM -> equalWeights ? hosts[random.nextInt(n)] : weightedRandom(random);
      case LEAST_REQUEST -> {
        // Power of two choices: two random hosts, the one with fewer active requests per weight
        Host a = equalWeights ? hosts[random.nextInt(n)] : weightedRandom(random);
        Host b = equalWeights ? hosts[random.nextInt(n)] : weightedRandom(random);
        yield (long) a.active * b.weight <= (long) b.active * a.weight ? a : b;
      }
    };
  }

  private Host smoothWeighted() {
    Host best = hosts[0];
    for (Host h : hosts) {
      h.currentWeight += h.weight;
      if (h.currentWeight > best.currentWeight) {
        best = h;
      }
    }
    best.currentWeight -= totalWeight;
    return best;
  }

  private Host weightedRandom(RandomGenerator random) {
    int r = random.nextInt(totalWeight);
    for (Host h : hosts) {
      r -= h.weight;
      if (r < 0) {
        return h;
      }
    }
    return hosts[hosts.length - 1];
  }

  void closeAll() {
    for (Host h : hosts) {
      h.closeIdle();
    }
  }
}
