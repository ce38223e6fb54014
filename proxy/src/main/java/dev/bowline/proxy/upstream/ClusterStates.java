package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.stats.Stats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The cluster-wide state of every cluster, shared by one proxy's {@link Worker}s: circuit-breaker
 * counts and outlier detection. One per proxy, never static.
 */
public final class ClusterStates {
  private final ConcurrentHashMap<String, ClusterState> states = new ConcurrentHashMap<>();
  private final Stats stats;
  private final LongSupplier nanos;
  private final io.netty.channel.EventLoop timer;
  private final Class<? extends io.netty.channel.Channel> channelClass;
  private final RandomGenerator random;

  /** The SSL contexts of TLS clusters' health checks: the workers' (see {@link #useTls}). */
  private volatile dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable TlsContexts tls;

  /** Health checks of TLS clusters take their SSL contexts (and SDS secrets) from {@code t}. */
  void useTls(dev.bowline.proxy.tls.TlsContexts t) {
    tls = t;
  }

  /** Told when a cluster's first round of health checks has ended (see {@link #warmed}). */
  private volatile Runnable onHcInitialized = () -> {};

  /** Clusters {@link #warmed} was asked about since the last {@link #retain} (config thread). */
  private final Set<String> warming = ConcurrentHashMap.newKeySet();

  /**
   * @param nanos the monotonic clock
   * @param timer runs outlier-detection intervals and health checks (the work is small)
   * @param channelClass the socket channel type health checks connect with
   * @param random decides {@code enforcing_*} percentages; used under the cluster's monitor only
   */
  public ClusterStates(
      Stats stats,
      LongSupplier nanos,
      io.netty.channel.EventLoop timer,
      Class<? extends io.netty.channel.Channel> channelClass,
      RandomGenerator random) {
    this.stats = stats;
    this.nanos = nanos;
    this.timer = timer;
    this.channelClass = channelClass;
    this.random = random;
  }

  ClusterState of(ClusterConfig c) {
    ClusterState s = states.get(c.name());
    return s != null
        ? s
        : states.computeIfAbsent(
            c.name(),
            n -> {
              String sn = c.statName();
              var state =
                  new ClusterState(
                      c,
                      stats.cluster(sn),
                      nanos,
                      timer,
                      channelClass,
                      random,
                      stats,
                      () -> onHcInitialized.run(),
                      () -> tls);
              // Envoy's gauge of the requests waiting for a connection: the breaker's count
              stats.gauge(
                  "cluster." + sn + ".upstream_rq_pending_active",
                  "envoy_cluster_upstream_rq_pending_active",
                  java.util.Map.of("envoy_cluster_name", sn),
                  state.pending::get);
              return state;
            });
  }

  /** Whether outlier detection has ejected {@code address} from {@code cluster}. */
  public boolean ejected(String cluster, SocketAddr address) {
    ClusterState s = states.get(cluster);
    return s != null && s.ejected(address);
  }

  /**
   * Envoy's {@code health_flags} for {@code address} in {@code cluster}: {@code healthy}, or {@code
   * /failed_active_hc} and/or {@code /failed_outlier_check}.
   */
  public String healthFlags(String cluster, SocketAddr address) {
    ClusterState s = states.get(cluster);
    return s == null ? "healthy" : s.healthFlags(address);
  }

  /**
   * The success rate (percent) outlier detection last computed for {@code address} of {@code
   * cluster} (Envoy's {@code successRate(ExternalOrigin)}), or -1 when none was: no success-rate
   * detector, or too few requests in the last interval.
   */
  public double successRate(String cluster, SocketAddr address) {
    ClusterState s = states.get(cluster);
    return s == null ? -1 : s.successRate(address);
  }

  /**
   * Starts (or re-times, or stops) the active health checks of {@code snapshot}'s clusters as they
   * are published, each endpoint known to be probed, as Envoy's cluster starts its health checker
   * when it initialises ({@code ClusterImplBase::onPreInitComplete}) rather than at its first
   * request. Clusters without health checks are left to their first request. Runs on the publishing
   * thread (never an event loop); {@link ClusterState#update} is idempotent.
   */
  public void startHealthChecks(dev.bowline.proxy.config.ProxySnapshot snapshot) {
    for (ClusterConfig c : snapshot.clusters().values()) {
      ClusterState running = states.get(c.name());
      if (c.policy().healthCheck().isEmpty() && (running == null || !running.checking())) {
        continue;
      }
      var endpoints = snapshot.endpointsOf(c);
      if (endpoints.isEmpty()) {
        continue; // nothing to probe until EDS or DNS names some
      }
      ClusterState state = of(c);
      state.update(c, endpoints.get());
      if (c.policy().healthCheck().isPresent()) {
        for (var e : endpoints.get().endpoints()) {
          state.health(e.address()); // the checker's rounds walk these
        }
      }
    }
  }

  /**
   * The endpoints of {@code cluster} EDS removed that stay until they fail a check (Envoy's {@code
   * /pending_dynamic_removal}), for the admin page.
   */
  public java.util.List<dev.bowline.proxy.config.Endpoints.Endpoint> kept(String cluster) {
    ClusterState s = states.get(cluster);
    return s == null ? java.util.List.of() : s.kept();
  }

  /** Sets what to run when a cluster's first round of health checks ends (any thread). */
  public void onHcInitialized(Runnable r) {
    onHcInitialized = r;
  }

  /**
   * Whether cluster {@code c}, not yet serving, has initialised as Envoy's does before it takes
   * traffic ({@code ClusterImplBase::onPreInitComplete} waits for {@code
   * pending_initialize_health_checks_}): with active health checks, once each of its endpoints has
   * had its first check, success or failure. Starts its health checker on {@code endpoints} when
   * asked first; {@link #onHcInitialized} runs when the answer turns true. On the config thread; a
   * cluster asked about stays until the next {@link #retain} even if not yet published.
   */
  public boolean warmed(ClusterConfig c, dev.bowline.proxy.config.Endpoints endpoints) {
    if (c.policy().healthCheck().isEmpty()) {
      return true;
    }
    warming.add(c.name());
    ClusterState state = of(c);
    state.update(c, endpoints);
    state.maybeHcInitialized(); // no endpoint: nothing to wait for
    return state.hcInitialized();
  }

  /**
   * Whether every cluster of {@code clusters} with active health checks has had its first round
   * (the static clusters' share of server initialisation).
   */
  public boolean hcInitialized(java.util.Collection<ClusterConfig> clusters) {
    for (ClusterConfig c : clusters) {
      if (c.policy().healthCheck().isEmpty()) {
        continue;
      }
      ClusterState s = states.get(c.name());
      if (s == null) {
        return false;
      }
      s.maybeHcInitialized(); // a cluster without endpoints has nothing to wait for
      if (!s.hcInitialized()) {
        return false;
      }
    }
    return true;
  }

  /** Forgets clusters no longer configured (but those still warming). */
  public void retain(Set<String> names) {
    Set<String> keep = Set.copyOf(warming);
    warming.clear();
    states
        .entrySet()
        .removeIf(
            e -> {
              if (names.contains(e.getKey()) || keep.contains(e.getKey())) {
                return false;
              }
              e.getValue().close();
              return true;
            });
  }
}
