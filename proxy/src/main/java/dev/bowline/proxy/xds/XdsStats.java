package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.stats.SubscriptionStats;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
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

  /**
   * Listeners whose bind after warming failed, counted removed then by the listener manager
   * (Envoy's {@code onListenerWarmed}: {@code removeListenerInternal}) and not added again since:
   * an LDS response dropping one removes nothing (Envoy no longer has it), and one that brings it
   * back adds it (Envoy's LDS adds it as new). Written by the listener manager as it binds, read on
   * the xDS client's thread.
   */
  private final Set<String> removedOut = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Whether the listener manager holds a listener out now (it binds at the next publication). */
  private java.util.function.Predicate<String> heldOut = name -> false;

  /**
   * The subscription stats of each EDS cluster (by cluster name) and RDS route table (by name)
   * subscribed now: a stream failure counts for these only. A cluster's stats are those {@link
   * Stats#subscription} made for its prefix (it never drops one), so one kept here is the one it
   * would return.
   */
  private final Map<String, SubscriptionStats> edsLive = new HashMap<>();

  private final Map<String, SubscriptionStats> rdsLive = new HashMap<>();

  /**
   * The clusters and listeners held at the last answer, in their iteration order, and the stat
   * prefix of each route table those listeners name. The live stats to keep follow from these
   * objects alone (records: a cluster's name and EDS service, a listener's connection managers), so
   * while the same objects are held, the same stats are kept and nothing is recomputed: a push
   * re-sends every cluster unchanged, and each of its responses used to make a key per cluster
   * (decision 0004, session 16 addendum push14).
   */
  private Object[] keptClusters = new Object[0];

  private Object[] keptListeners = new Object[0];
  private Map<String, String> prefixes = Map.of();

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

  /**
   * Listener {@code name}'s bind after warming failed and the listener manager counted it removed.
   * Any thread.
   */
  public void listenerRemovedOut(String name) {
    removedOut.add(name);
  }

  /**
   * Whether the listener manager holds a listener out until LDS sends it again and it can bind; set
   * before the xDS client starts.
   */
  public void heldOut(java.util.function.Predicate<String> out) {
    this.heldOut = out;
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
    edsLive.values().forEach(SubscriptionStats::failed);
    rdsLive.values().forEach(SubscriptionStats::failed);
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
    boolean sameListeners = sameObjects(keptListeners, ldsAccepted);
    if (!sameListeners) {
      prefixes = rdsPrefixes(ldsAccepted);
    }
    switch (typeUrl) {
      case XdsClient.LDS -> {
        listenerChanges(accepted);
        count(lds, nacked, version);
      }
      case XdsClient.CDS -> {
        changes(clusters, accepted, clusterAdded, clusterModified, clusterRemoved);
        count(cds, nacked, version);
      }
      case XdsClient.EDS -> {
        for (ClusterConfig c : cdsAccepted) {
          String eds = c.edsServiceName();
          if (eds != null && seen.contains(eds)) {
            SubscriptionStats s = edsLive.get(c.name());
            if (s == null) {
              s =
                  stats.subscription(
                      "cluster." + c.statName() + ".",
                      "envoy_cluster_",
                      Map.of("envoy_cluster_name", c.statName()));
              edsLive.put(c.name(), s);
            }
            if (good.contains(eds)) {
              s.accepted(version);
            } else {
              s.rejected();
            }
          }
        }
      }
      case XdsClient.RDS -> {
        for (String route : seen) {
          String prefix = prefixes.get(route);
          if (prefix != null) {
            var s =
                stats.subscription(
                    "http." + prefix + ".rds." + route + ".",
                    "envoy_http_rds_",
                    Map.of(
                        "envoy_http_conn_manager_prefix", prefix, "envoy_rds_route_config", route));
            rdsLive.put(route, s);
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
    // Keep the stats of the EDS clusters and RDS tables subscribed now (a failure counts for those
    // only). What was added above comes from the objects held now; with the same objects as at the
    // last answer, what is kept is what was kept then.
    if (!sameListeners) {
      rdsLive.keySet().retainAll(prefixes.keySet());
      keptListeners = ldsAccepted.toArray();
    }
    if (!sameObjects(keptClusters, cdsAccepted)) {
      Set<String> eds = new HashSet<>();
      for (ClusterConfig c : cdsAccepted) {
        if (c.edsServiceName() != null) {
          eds.add(c.name());
        }
      }
      edsLive.keySet().retainAll(eds);
      keptClusters = cdsAccepted.toArray();
    }
  }

  /** Whether {@code now} holds the objects of {@code was}, in the same order. */
  private static boolean sameObjects(Object[] was, Collection<?> now) {
    if (was.length != now.size()) {
      return false;
    }
    int i = 0;
    for (Object o : now) {
      if (was[i++] != o) {
        return false;
      }
    }
    return true;
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
  /**
   * {@link #changes} for listeners, as Envoy's listener manager counts them: one removed after its
   * bind failed and that this response brought back (checked again and bindable, so no longer held
   * out) is added again, whether changed or not; one dropped while removed so is not removed twice.
   */
  private void listenerChanges(Map<String, ?> now) {
    for (var e : now.entrySet()) {
      Object before = listeners.get(e.getKey());
      if (before == null) {
        listenerAdded.inc();
      } else if (removedOut.contains(e.getKey()) && !heldOut.test(e.getKey())) {
        removedOut.remove(e.getKey());
        listenerAdded.inc();
      } else if (before != e.getValue()) {
        listenerModified.inc();
      }
    }
    for (String name : listeners.keySet()) {
      if (!now.containsKey(name) && !removedOut.remove(name)) {
        listenerRemoved.inc();
      }
    }
    listeners.clear();
    listeners.putAll(now);
  }

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
