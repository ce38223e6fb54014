package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.lb.HashTable;
import dev.bowline.proxy.stats.ClusterStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's hosts on one event loop and the load balancer over them. Rebuilt when the cluster or
 * its endpoints change (identity of the immutable config objects); hosts that survive keep their
 * pooled connections. The balancer's view of health (which hosts outlier detection ejected) is
 * rebuilt when the cluster's shared health version moves, so a pick costs one volatile read.
 *
 * <p>A pick, as Envoy's: choose a priority level by the levels' health-derived load (healthy share
 * × overprovisioning factor, spilling to the next level what a level cannot take); in panic (total
 * health below {@code healthy_panic_threshold}) ignore health altogether; within the level choose a
 * locality by weight × health when locality-weighted; then the cluster's policy over the hosts.
 */
final class ClusterHosts {
  final ClusterConfig config;
  final Endpoints endpoints;
  final Host[] hosts;
  final ClusterStats stats;
  final ClusterState state;
  private final boolean hashed;

  /**
   * Whether the cluster keeps endpoints EDS removed until they fail a check ({@link
   * ClusterState#keepsRemoved}): then the loop rebuilds its hosts when {@link #membership} moves.
   */
  final boolean keepsRemoved;

  /** The {@link ClusterState#membershipVersion} these hosts include the kept endpoints of. */
  final int membership;

  /** The cluster's per_upstream_preconnect_ratio (1: connect on demand only). */
  final double preconnectRatio;

  private int viewVersion = -1;
  private Level[] levels = new Level[0];
  private int[] cumulativeLoad = new int[0]; // percent, per level
  boolean panic;

  ClusterHosts(
      ClusterConfig config,
      Endpoints endpoints,
      @Nullable ClusterHosts previous,
      ClusterStats stats,
      ClusterState state) {
    this.config = config;
    this.endpoints = endpoints;
    this.stats = stats;
    this.state = state;
    this.hashed = config.lbPolicy().hashed();
    this.preconnectRatio = config.policy().preconnectRatio();
    state.update(config, endpoints);
    this.keepsRemoved = ClusterState.keepsRemoved(config);
    this.membership = state.membershipVersion;
    List<Endpoints.Endpoint> all = endpoints.endpoints();
    if (keepsRemoved && !state.kept().isEmpty()) {
      all = new ArrayList<>(all);
      all.addAll(state.kept()); // removed by EDS, kept while they pass their checks
    }
    Map<Object, Host> old = new HashMap<>();
    if (previous != null) {
      for (Host h : previous.hosts) {
        old.put(h.address, h);
      }
    }
    List<Host> list = new ArrayList<>();
    for (Endpoints.Endpoint e : all) {
      Host h = old.remove(e.address());
      var tls = config.transport().forEndpoint(e.socketMatch()).orElse(null);
      if (h == null
          || h.weight != e.weight()
          || h.priority != e.priority()
          || !h.locality.equals(e.locality())
          || !h.hostname.equals(e.hostname())
          || h.state != state
          || !java.util.Objects.equals(h.tls, tls)) {
        Host was = h;
        h = new Host(e.address(), e.weight(), e.priority(), e.locality(), e.hostname(), state, tls);
        if (was != null) {
          old.put(e.address(), was); // closed below; changed, start fresh
          h.countsOf(was); // the same endpoint: its stats go on, as Envoy's host keeps them
        }
      }
      list.add(h);
    }
    for (Host gone : old.values()) {
      gone.closeIdle();
    }
    this.hosts = list.toArray(Host[]::new);
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

  /** The host for the next request (random hash for hashing policies), null when none. */
  @Nullable Host pick(RandomGenerator random) {
    return pick(random, false, 0);
  }

  /**
   * The host for the next request, or null when the cluster has none. {@code hash} is the request's
   * hash when {@code hasHash} (hashing policies; others ignore it).
   */
  @Nullable Host pick(RandomGenerator random, boolean hasHash, long hash) {
    if (hosts.length == 0) {
      return null;
    }
    if (hosts.length == 1 && !config.policy().outlier().isPresent()) {
      return hosts[0];
    }
    int v = state.healthVersion;
    if (v != viewVersion) {
      rebuildView();
      viewVersion = v;
    }
    if (levels.length == 0 || cumulativeLoad[cumulativeLoad.length - 1] == 0) {
      return null; // every host ejected and panic disabled
    }
    long h = hashed ? (hasHash ? hash : random.nextLong()) : 0;
    Level level = levels[chooseLevel(hashed ? Long.remainderUnsigned(h, 100) : -1, random)];
    if (hashed) {
      return level.table().pick(h);
    }
    if (level.localities().length == 0) {
      return null;
    }
    HostSet set = level.localities().length == 1 ? level.localities()[0] : level.chooseLocality();
    return set.pick(config, random, state);
  }

  private int chooseLevel(long hashPercent, RandomGenerator random) {
    int n = cumulativeLoad.length;
    if (n == 1) {
      return 0;
    }
    long r = hashPercent >= 0 ? hashPercent : random.nextInt(100);
    for (int i = 0; i < n; i++) {
      if (r < cumulativeLoad[i]) {
        return i;
      }
    }
    return n - 1;
  }

  /** Recomputes levels, their loads and localities from the current ejections. */
  private void rebuildView() {
    TreeMap<Integer, List<Host>> byPriority = new TreeMap<>();
    for (Host h : hosts) {
      // Envoy's excluded hosts (PENDING_ACTIVE_HC): out of load balancing and of the health and
      // panic computations altogether, not counted as unhealthy
      if (!h.health.pendingActiveHc) {
        byPriority.computeIfAbsent(h.priority, k -> new ArrayList<>()).add(h);
      }
    }
    if (byPriority.isEmpty()) {
      // every host waits for its first check: Envoy has none to offer; here they stay candidates
      // (all failed, so in panic) rather than the cluster having no level at all
      for (Host h : hosts) {
        byPriority.computeIfAbsent(h.priority, k -> new ArrayList<>()).add(h);
      }
    }
    int n = byPriority.size();
    List<List<Host>> all = new ArrayList<>(byPriority.values());
    int factor = endpoints.overprovisioningFactor();
    int[] health = new int[n];
    int totalHealth = 0;
    for (int i = 0; i < n; i++) {
      List<Host> p = all.get(i);
      long healthy = p.stream().filter(x -> !x.health.unhealthy()).count();
      health[i] = (int) Math.min(100, healthy * factor / p.size());
      totalHealth += health[i];
    }
    int normalized = Math.min(100, totalHealth);
    int threshold = config.policy().panicThresholdPercent();
    panic = threshold > 0 && normalized < threshold;
    int[] load = new int[n];
    if (panic) {
      // Envoy in panic: every host is a candidate, load by level size
      int total = 0;
      for (List<Host> p : all) {
        total += p.size();
      }
      int given = 0;
      for (int i = 0; i < n; i++) {
        load[i] = i == n - 1 ? 100 - given : all.get(i).size() * 100 / total;
        given += load[i];
      }
    } else {
      int remaining = 100;
      for (int i = 0; i < n; i++) {
        // scale so the levels' health sums to 100 when all together fall short
        int share =
            totalHealth >= 100 || totalHealth == 0 ? health[i] : health[i] * 100 / totalHealth;
        load[i] = Math.min(remaining, share);
        remaining -= load[i];
      }
      if (remaining > 0) {
        for (int i = 0; i < n; i++) {
          if (health[i] > 0) {
            load[i] += remaining; // rounding leftovers go to the first level that can serve
            break;
          }
        }
      }
    }
    int[] cumulative = new int[n];
    Level[] lv = new Level[n];
    int acc = 0;
    for (int i = 0; i < n; i++) {
      acc += load[i];
      cumulative[i] = acc;
      List<Host> usable =
          panic ? all.get(i) : all.get(i).stream().filter(x -> !x.health.unhealthy()).toList();
      lv[i] = level(usable, all.get(i), factor);
    }
    this.levels = lv;
    this.cumulativeLoad = cumulative;
  }

  private Level level(List<Host> usable, List<Host> everyone, int factor) {
    HashTable<Host> table = null;
    if (hashed) {
      List<HashTable.Entry<Host>> entries = new ArrayList<>();
      for (Host h : usable) {
        entries.add(new HashTable.Entry<>(h, h.address.toString(), h.weight));
      }
      table = HashTable.build(config.policy().lb(), entries);
    }
    if (!config.policy().localityWeighted() || hashed) {
      return new Level(new HostSet[] {new HostSet(usable.toArray(Host[]::new), 1)}, table);
    }
    // locality-weighted: weight × locality health (overprovisioned, capped at 100%)
    Map<String, List<Host>> byLocality = new LinkedHashMap<>();
    Map<String, Integer> totals = new HashMap<>();
    Map<String, Integer> weights = new HashMap<>();
    for (Host h : everyone) {
      totals.merge(h.locality, 1, Integer::sum);
      byLocality.computeIfAbsent(h.locality, k -> new ArrayList<>());
    }
    for (Endpoints.Endpoint e : endpoints.endpoints()) {
      weights.putIfAbsent(e.locality(), e.localityWeight());
    }
    for (Host h : usable) {
      byLocality.get(h.locality).add(h);
    }
    List<HostSet> sets = new ArrayList<>();
    for (var e : byLocality.entrySet()) {
      int w = weights.getOrDefault(e.getKey(), 0);
      if (w == 0 || e.getValue().isEmpty()) {
        continue; // Envoy: a locality without weight takes no traffic
      }
      double healthShare =
          Math.min(1.0, (double) e.getValue().size() * factor / 100 / totals.get(e.getKey()));
      sets.add(
          new HostSet(
              e.getValue().toArray(Host[]::new), Math.max(1, (int) (w * healthShare * 100))));
    }
    if (sets.isEmpty()) {
      sets.add(new HostSet(usable.toArray(Host[]::new), 1));
    }
    return new Level(sets.toArray(HostSet[]::new), null);
  }

  /** One priority level: its localities (one set when not locality-weighted), its hash table. */
  private record Level(HostSet[] localities, @Nullable HashTable<Host> hashTable) {
    HashTable<Host> table() {
      return java.util.Objects.requireNonNull(hashTable);
    }

    HostSet chooseLocality() {
      // smooth weighted round robin over localities (deterministic, no allocation)
      HostSet best = localities[0];
      int total = 0;
      for (HostSet s : localities) {
        s.localityCurrent += s.localityWeight;
        total += s.localityWeight;
        if (s.localityCurrent > best.localityCurrent) {
          best = s;
        }
      }
      best.localityCurrent -= total;
      return best;
    }
  }

  /** Hosts a non-hashing policy picks among, with that policy's per-loop state. */
  static final class HostSet {
    final Host[] hosts;
    final int totalWeight;
    final boolean equalWeights;
    final int localityWeight;
    int localityCurrent;
    int next; // plain round robin cursor

    HostSet(Host[] hosts, int localityWeight) {
      this.hosts = hosts;
      this.localityWeight = localityWeight;
      int total = 0;
      boolean equal = true;
      for (Host h : hosts) {
        total += h.weight;
        equal &= h.weight == hosts[0].weight;
      }
      this.totalWeight = total;
      this.equalWeights = equal;
    }

    @Nullable Host pick(ClusterConfig config, RandomGenerator random, ClusterState state) {
      int n = hosts.length;
      if (n == 0) {
        return null;
      }
      if (n == 1) {
        return hosts[0];
      }
      var slowStart = config.policy().slowStart();
      if (slowStart.isPresent() && config.lbPolicy() != ClusterConfig.LbPolicy.RANDOM) {
        Host warm = slowStartPick(slowStart.get(), config, random, state.nanos());
        if (warm != null) {
          return warm;
        }
      }
      return switch (config.lbPolicy()) {
        case ROUND_ROBIN -> equalWeights ? hosts[next++ % n] : smoothWeighted();
        case RANDOM -> equalWeights ? hosts[random.nextInt(n)] : weightedRandom(random);
        case LEAST_REQUEST -> leastRequest(config, random);
        case RING_HASH, MAGLEV -> throw new IllegalStateException("hashed policies use tables");
      };
    }

    private Host leastRequest(ClusterConfig config, RandomGenerator random) {
      int n = hosts.length;
      if (equalWeights) {
        // power of N choices (N = choice_count, 2 by default): the one with fewest active requests
        int choices =
            config.policy().lb() instanceof ClusterPolicy.LeastRequest lr ? lr.choiceCount() : 2;
        Host best = hosts[random.nextInt(n)];
        for (int i = 1; i < choices; i++) {
          Host c = hosts[random.nextInt(n)];
          if (c.active < best.active) {
            best = c;
          }
        }
        return best;
      }
      // weighted: weight / (active + 1)^bias, picked at random by that effective weight
      double bias =
          config.policy().lb() instanceof ClusterPolicy.LeastRequest lr
              ? lr.activeRequestBias()
              : 1.0;
      double total = 0;
      for (Host h : hosts) {
        total += effective(h, bias);
      }
      double r = random.nextDouble() * total;
      for (Host h : hosts) {
        r -= effective(h, bias);
        if (r < 0) {
          return h;
        }
      }
      return hosts[n - 1];
    }

    private static double effective(Host h, double bias) {
      return bias == 0 ? h.weight : h.weight / Math.pow(h.active + 1, bias);
    }

    /**
     * Slow start: while some host is younger than the window, pick by weight × max(min_weight, (age
     * / window)^(1 / aggression)); null when no host is warming.
     */
    private @Nullable Host slowStartPick(
        ClusterPolicy.SlowStart s, ClusterConfig config, RandomGenerator random, long now) {
      long window = s.window().toNanos();
      boolean warming = false;
      for (Host h : hosts) {
        warming |= h.health.addedNanos != 0 && now - h.health.addedNanos < window;
      }
      if (!warming) {
        return null;
      }
      double total = 0;
      double[] w = new double[hosts.length];
      for (int i = 0; i < hosts.length; i++) {
        w[i] = hosts[i].weight * factor(hosts[i], s, now, window);
        if (config.lbPolicy() == ClusterConfig.LbPolicy.LEAST_REQUEST) {
          w[i] /= hosts[i].active + 1;
        }
        total += w[i];
      }
      double r = random.nextDouble() * total;
      for (int i = 0; i < hosts.length; i++) {
        r -= w[i];
        if (r < 0) {
          return hosts[i];
        }
      }
      return hosts[hosts.length - 1];
    }

    static double factor(Host h, ClusterPolicy.SlowStart s, long now, long window) {
      long age = now - h.health.addedNanos;
      if (h.health.addedNanos == 0 || age >= window) {
        return 1.0;
      }
      double time = Math.max(0, (double) age / window);
      double f = Math.pow(time, 1.0 / Math.max(s.aggression(), 1e-9));
      return Math.max(s.minWeightPercent() / 100.0, f);
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
  }

  void closeAll() {
    for (Host h : hosts) {
      h.closeIdle();
    }
  }
}
