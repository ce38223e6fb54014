package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.stats.SubscriptionStats;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's cluster manager, listener manager, control plane and xDS subscription stats, counted on
 * the xDS client's thread as it answers responses and publishes what warmed (never on an event
 * loop): {@code cluster_manager.{cluster_added,cluster_modified,cluster_removed}} and {@code
 * listener_manager.{listener_added,listener_modified,listener_removed}} count what CDS and LDS
 * accepted (static resources count as added at start-up), {@code cluster_manager.warming_clusters}
 * and {@code listener_manager.total_listeners_warming} the accepted resources not serving yet (new
 * or changed, waiting for endpoints or route tables), {@code control_plane.connected_state} whether
 * the ADS stream has answered since it last failed. Subscription stats ({@link SubscriptionStats})
 * sit under {@code listener_manager.lds.}, {@code cluster_manager.cds.}, {@code cluster.<name>.}
 * for each EDS cluster and {@code http.<stat_prefix>.rds.<route_config>.} (the first listener, by
 * name, whose connection manager names the route table).
 */
public final class XdsStats {
  private final Stats stats;
  private final Counter clusterAdded;
  private final Counter clusterModified;
  private final Counter clusterRemoved;
  private final Counter listenerAdded;
  private final Counter listenerModified;
  private final Counter listenerRemoved;
  private volatile long connected;
  private volatile long warmingClusters;
  private volatile long warmingListeners;
  private volatile boolean clustersWarm;
  private @Nullable SubscriptionStats lds;
  private @Nullable SubscriptionStats cds;

  /** The runtime objects CDS and LDS accepted last (identity tells a modified one). */
  private final Map<String, Object> clusters = new HashMap<>();

  private final Map<String, Object> listeners = new HashMap<>();

  /** The subscription stats of each EDS cluster and RDS route table subscribed now. */
  private final Map<String, SubscriptionStats> live = new TreeMap<>();

  public XdsStats(Stats stats) {
    this.stats = stats;
    clusterAdded = counter("cluster_manager.cluster_added");
    clusterModified = counter("cluster_manager.cluster_modified");
    clusterRemoved = counter("cluster_manager.cluster_removed");
    listenerAdded = counter("listener_manager.listener_added");
    listenerModified = counter("listener_manager.listener_modified");
    listenerRemoved = counter("listener_manager.listener_removed");
    counter("control_plane.rate_limit_enforced"); // Bowline never rate-limits its xDS requests
    gauge("control_plane.connected_state", () -> connected);
    gauge("cluster_manager.warming_clusters", () -> warmingClusters);
    gauge("listener_manager.total_listeners_warming", () -> warmingListeners);
  }

  private Counter counter(String name) {
    return stats.counter(name, prom(name), Map.of());
  }

  private void gauge(String name, java.util.function.LongSupplier source) {
    stats.gauge(name, prom(name), Map.of(), source);
  }

  private static String prom(String name) {
    return "envoy_" + name.replace('.', '_');
  }

  /** Static listeners and clusters of the bootstrap: added at start-up, as in Envoy. */
  public void staticResources(int listenerCount, int clusterCount) {
    for (int i = 0; i < listenerCount; i++) {
      listenerAdded.inc();
    }
    for (int i = 0; i < clusterCount; i++) {
      clusterAdded.inc();
    }
  }

  /**
   * Whether the cluster manager has initialised: CDS has answered and no cluster of it was still
   * warming at the last publication (Envoy's server is {@code PRE_INITIALIZING} until then, {@code
   * INITIALIZING} while listeners warm).
   */
  public boolean clustersWarm() {
    return clustersWarm;
  }

  // ---- called by XdsClient on its thread ----

  void started() {
    lds = stats.subscription("listener_manager.lds.", "envoy_listener_manager_lds_", Map.of());
    cds = stats.subscription("cluster_manager.cds.", "envoy_cluster_manager_cds_", Map.of());
    lds.started();
    cds.started();
  }

  /** A response arrived on the stream: the control plane is connected. */
  void responded() {
    connected = 1;
  }

  /** The stream failed: each subscription counts a failure. */
  void streamFailed() {
    for (var s : new SubscriptionStats[] {lds, cds}) {
      if (s != null) {
        s.failed();
      }
    }
    live.values().forEach(SubscriptionStats::failed);
    connected = 0; // last: whoever sees it sees the failures counted
  }

  /**
   * A response of {@code typeUrl} was answered and what it made warm published (so whoever sees its
   * counters sees the gauges of that publication): {@code seen} the names it carried, {@code good}
   * those accepted from it, {@code accepted} what the type holds now; {@code cdsAccepted} and
   * {@code ldsAccepted} the clusters and listeners held now.
   */
  void answered(
      String typeUrl,
      String version,
      boolean nacked,
      Set<String> seen,
      Set<String> good,
      Map<String, ?> accepted,
      Collection<ClusterConfig> cdsAccepted,
      Collection<ListenerConfig> ldsAccepted) {
    switch (typeUrl) {
      case XdsClient.LDS -> {
        changes(listeners, accepted, listenerAdded, listenerModified, listenerRemoved);
        count(lds, nacked, version);
      }
      case XdsClient.CDS -> {
        changes(clusters, accepted, clusterAdded, clusterModified, clusterRemoved);
        count(cds, nacked, version);
      }
      case XdsClient.EDS -> {
        for (ClusterConfig c : cdsAccepted) {
          String eds = c.edsName().orElse(null);
          if (eds != null && seen.contains(eds)) {
            perResource(
                    "cluster." + c.name() + ".", "envoy_cluster_", "envoy_cluster_name", c.name())
                .accept(good.contains(eds), version);
          }
        }
      }
      case XdsClient.RDS -> {
        Map<String, String> prefixes = rdsPrefixes(ldsAccepted);
        for (String route : seen) {
          String prefix = prefixes.get(route);
          if (prefix != null) {
            var s =
                stats.subscription(
                    "http." + prefix + ".rds." + route + ".",
                    "envoy_http_rds_",
                    Map.of(
                        "envoy_http_conn_manager_prefix", prefix, "envoy_rds_route_config", route));
            live.put("rds/" + route, s);
            if (good.contains(route)) {
              s.accepted(version);
            } else {
              s.rejected();
            }
          }
        }
      }
      default -> {}
    }
    // the EDS clusters and RDS tables subscribed now (a failure counts for those only)
    Set<String> keep = new java.util.HashSet<>();
    cdsAccepted.forEach(c -> c.edsName().ifPresent(n -> keep.add("eds/" + c.name())));
    rdsPrefixes(ldsAccepted).keySet().forEach(r -> keep.add("rds/" + r));
    live.keySet().retainAll(keep);
  }

  private interface Outcome {
    void accept(boolean accepted, String version);
  }

  private Outcome perResource(String prefix, String promPrefix, String tag, String name) {
    var s = stats.subscription(prefix, promPrefix, Map.of(tag, name));
    live.put("eds/" + name, s);
    return (ok, version) -> {
      if (ok) {
        s.accepted(version);
      } else {
        s.rejected();
      }
    };
  }

  private static void count(@Nullable SubscriptionStats s, boolean nacked, String version) {
    if (s == null) {
      return;
    }
    if (nacked) {
      s.rejected();
    } else {
      s.accepted(version);
    }
  }

  /**
   * Counts the names {@code now} adds, changes (another object) and removes against {@code was}.
   */
  private static void changes(
      Map<String, Object> was,
      Map<String, ?> now,
      Counter added,
      Counter modified,
      Counter removed) {
    for (var e : now.entrySet()) {
      Object before = was.get(e.getKey());
      if (before == null) {
        added.inc();
      } else if (before != e.getValue()) {
        modified.inc();
      }
    }
    for (String name : was.keySet()) {
      if (!now.containsKey(name)) {
        removed.inc();
      }
    }
    was.clear();
    was.putAll(now);
  }

  /** Per RDS route table, the stat prefix of the first listener (by name) that names it. */
  private static Map<String, String> rdsPrefixes(Collection<ListenerConfig> listeners) {
    Map<String, String> out = new HashMap<>();
    listeners.stream()
        .sorted(java.util.Comparator.comparing(ListenerConfig::name))
        .forEach(
            l -> {
              var chains = new java.util.ArrayList<>(l.filterChains());
              l.defaultChain().ifPresent(chains::add);
              for (var c : chains) {
                if (c.filter() instanceof HttpConnectionManagerConfig h
                    && h.routes() instanceof HttpConnectionManagerConfig.RdsRoutes r) {
                  out.putIfAbsent(r.name(), h.statPrefix());
                }
              }
            });
    return out;
  }

  /** After a publication: how many accepted clusters and listeners are not serving yet. */
  void published(
      XdsState state,
      Collection<ClusterConfig> cdsAccepted,
      Collection<ListenerConfig> ldsAccepted,
      boolean cdsAnswered) {
    long wc = 0;
    for (ClusterConfig c : cdsAccepted) {
      if (state.clusters().get(c.name()) != c) {
        wc++;
      }
    }
    long wl = 0;
    for (ListenerConfig l : ldsAccepted) {
      if (state.listeners().get(l.name()) != l) {
        wl++;
      }
    }
    warmingClusters = wc;
    warmingListeners = wl;
    clustersWarm = clustersWarm || (cdsAnswered && wc == 0) || state.initialized();
  }
}
