package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.stats.ClusterStats;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * What one cluster shares across event loops, as Envoy's cluster-wide resource manager and outlier
 * detector: circuit-breaker counts (atomics, no locks) and each endpoint's {@link HostHealth}.
 * Ejections are rare and serialised on this object's monitor; the request path only reads the
 * {@link #healthVersion} to know when its per-loop view is stale.
 */
final class ClusterState {
  private static final System.Logger LOG = System.getLogger(ClusterState.class.getName());

  final String name;
  final ClusterStats stats;
  private final LongSupplier nanos;
  private final io.netty.channel.EventLoop timer;
  private final Class<? extends io.netty.channel.Channel> channelClass;
  private volatile @Nullable HealthChecker healthChecker;
  private final java.util.random.RandomGenerator random;
  final dev.bowline.proxy.stats.Stats rootStats;

  /** The SSL contexts health checks of a TLS cluster connect with (the proxy's). */
  private final java.util.function.Supplier<dev.bowline.proxy.tls.@Nullable TlsContexts> tls;

  private @Nullable HcStats hcStats;

  /**
   * Every endpoint known when the health checker started has had its first check (Envoy's {@code
   * pending_initialize_health_checks_} at zero): the cluster has initialised. Never goes back.
   */
  private volatile boolean hcInitialized;

  /** Told (on the checker's loop) when {@link #hcInitialized} turns true. */
  private final Runnable onHcInitialized;

  // circuit breakers (Envoy's ResourceManager)
  final AtomicLong connections = new AtomicLong();
  final AtomicLong pending = new AtomicLong();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong retries = new AtomicLong();

  private final Map<SocketAddr, HostHealth> health = new ConcurrentHashMap<>();
  private final long createdNanos;

  /** Bumped on every ejection and un-ejection; loops rebuild their host sets when it moves. */
  volatile int healthVersion;

  private volatile ClusterConfig config;
  private @Nullable ScheduledFuture<?> interval;
  private @Nullable Endpoints lastEndpoints;

  ClusterState(
      ClusterConfig config,
      ClusterStats stats,
      LongSupplier nanos,
      io.netty.channel.EventLoop timer,
      Class<? extends io.netty.channel.Channel> channelClass,
      java.util.random.RandomGenerator random,
      dev.bowline.proxy.stats.Stats rootStats,
      Runnable onHcInitialized,
      java.util.function.Supplier<dev.bowline.proxy.tls.@Nullable TlsContexts> tls) {
    this.tls = tls;
    this.channelClass = channelClass;
    this.rootStats = rootStats;
    this.onHcInitialized = onHcInitialized;
    this.name = config.name();
    this.config = config;
    this.stats = stats;
    this.nanos = nanos;
    this.timer = timer;
    this.random = random;
    this.createdNanos = nanos.getAsLong();
  }

  long nanos() {
    return nanos.getAsLong();
  }

  ClusterConfig config() {
    return config;
  }

  /**
   * Takes a new version of the cluster or its endpoints: starts, re-times or stops the outlier
   * detector and forgets endpoints that left. Idempotent; any loop may call it.
   */
  synchronized void update(ClusterConfig c, Endpoints endpoints) {
    boolean configChanged = c != config;
    config = c;
    if (endpoints != lastEndpoints) {
      Endpoints was = lastEndpoints;
      lastEndpoints = endpoints;
      var keep = new java.util.HashSet<SocketAddr>();
      for (Endpoints.Endpoint e : endpoints.endpoints()) {
        keep.add(e.address());
        HostHealth back = health.get(e.address());
        if (back != null && back.pendingRemoval) { // EDS names it again
          back.pendingRemoval = false;
          back.removedAs = null;
          membershipChanged();
        }
      }
      keepHealthyRemoved(c, was, keep, endpoints.unhealthy());
      if (health.keySet().retainAll(keep)) {
        healthVersion++;
        HealthChecker running = healthChecker;
        if (running != null) {
          running.hostsChanged();
          maybeHcInitialized(); // a host that left before its first check waits no more
        }
      }
    }
    var hc = c.policy().healthCheck().orElse(null);
    HealthChecker running = healthChecker;
    if (running != null && (hc == null || !hc.equals(running.check()))) {
      running.stop();
      healthChecker = null;
      clearActiveHc();
    }
    if (hc != null && healthChecker == null) {
      if (hcStats == null) {
        hcStats = HcStats.create(rootStats, c.statName(), this::healthyCount);
      }
      healthChecker = new HealthChecker(this, timer, channelClass, hc, hcStats, tls.get());
    }
    if (hc != null) {
      // the checker probes every endpoint, taking traffic or not; made under this monitor, so
      // that no one sees a started checker without its endpoints (and takes it as initialised)
      for (Endpoints.Endpoint e : endpoints.endpoints()) {
        health(e.address()).socketMatch = e.socketMatch();
      }
    }
    var outlier = c.policy().outlier();
    if (outlier.isEmpty()) {
      stopTimer();
      boolean any = false;
      for (HostHealth h : health.values()) {
        any |= h.ejected;
        h.ejected = false;
        h.numEjections = 0;
      }
      if (any) {
        healthVersion++;
      }
    } else if (interval == null || configChanged) {
      stopTimer();
      long every = Math.max(1, outlier.get().interval().toNanos());
      interval = timer.scheduleAtFixedRate(this::onInterval, every, every, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Bumped when the endpoints kept past their removal ({@link #kept}) change: loops rebuild their
   * hosts then. Read on the request path only for clusters that keep removed endpoints.
   */
  volatile int membershipVersion;

  /** The endpoints EDS removed that stay until they fail a check (Envoy's dynamic removal). */
  private volatile java.util.List<Endpoints.Endpoint> kept = java.util.List.of();

  /**
   * Whether this cluster keeps endpoints EDS removed while they pass their checks: with active
   * health checks and without {@code ignore_health_on_host_removal}, as Envoy's EDS cluster.
   */
  static boolean keepsRemoved(ClusterConfig c) {
    var hc = c.policy().healthCheck();
    return c.edsServiceName() != null && hc.isPresent() && !hc.get().ignoreHealthOnHostRemoval();
  }

  /** {@link #kept}, for the loops' host lists and the admin page. */
  java.util.List<Endpoints.Endpoint> kept() {
    return kept;
  }

  private void membershipChanged() {
    java.util.List<Endpoints.Endpoint> now = new java.util.ArrayList<>();
    for (HostHealth h : health.values()) {
      Endpoints.Endpoint e = h.removedAs;
      if (h.pendingRemoval && e != null) {
        now.add(e);
      }
    }
    kept = java.util.List.copyOf(now);
    membershipVersion++;
  }

  /**
   * As Envoy's {@code updateDynamicHostList} with a health checker: an endpoint {@code was} named
   * that the new endpoints ({@code keep}) lack stays while it has not failed its active check,
   * marked for removal, unless the control plane still names it, as unhealthy or draining; under
   * the monitor.
   */
  private void keepHealthyRemoved(
      ClusterConfig c,
      @Nullable Endpoints was,
      java.util.Set<SocketAddr> keep,
      java.util.Set<SocketAddr> edsUnhealthy) {
    if (!keepsRemoved(c) || healthChecker == null) {
      boolean any = false;
      for (HostHealth h : health.values()) {
        any |= h.pendingRemoval;
        h.pendingRemoval = false;
        h.removedAs = null;
      }
      if (any) {
        membershipChanged();
      }
      return;
    }
    boolean changed = false;
    java.util.Map<SocketAddr, Endpoints.Endpoint> before = new java.util.HashMap<>();
    if (was != null) {
      for (Endpoints.Endpoint e : was.endpoints()) {
        before.put(e.address(), e);
      }
    }
    for (HostHealth h : health.values()) {
      if (keep.contains(h.address)) {
        continue;
      }
      if (h.pendingRemoval) {
        keep.add(h.address); // still kept
      } else if (!h.failedActiveHc
          && before.containsKey(h.address)
          && !edsUnhealthy.contains(h.address)) {
        // (an endpoint the control plane now calls unhealthy or draining was not removed: Envoy
        // keeps it with /failed_eds_health, out of load balancing; here it leaves)
        h.removedAs = before.get(h.address);
        h.pendingRemoval = true;
        keep.add(h.address);
        changed = true;
        LOG.log(
            System.Logger.Level.INFO,
            "event=host_pending_dynamic_removal cluster={0} host={1}",
            name,
            h.address);
      }
    }
    if (changed) {
      membershipChanged();
    }
  }

  /** Whether an active health checker runs for this cluster. */
  boolean checking() {
    return healthChecker != null;
  }

  /** Envoy's {@code health_check.healthy} gauge: endpoints not failing their active check. */
  private long healthyCount() {
    long n = 0;
    for (HostHealth h : health.values()) {
      if (!h.failedActiveHc) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether the cluster has initialised as far as active health checking goes: without a checker,
   * yes; with one, once every endpoint it had when it started, or got before it finished, has had
   * its first check.
   */
  boolean hcInitialized() {
    return hcInitialized || healthChecker == null;
  }

  /** An endpoint's first check ended (on the checker's loop). */
  void firstCheckDone() {
    maybeHcInitialized();
  }

  /** Marks the cluster initialised once no endpoint waits for its first check. */
  void maybeHcInitialized() {
    boolean now;
    synchronized (this) {
      if (hcInitialized || healthChecker == null) {
        return;
      }
      for (HostHealth h : health.values()) {
        if (h.firstCheck) {
          return;
        }
      }
      hcInitialized = true;
      now = true;
    }
    if (now) {
      LOG.log(System.Logger.Level.DEBUG, "event=health_check_initialized cluster={0}", name);
      onHcInitialized.run();
    }
  }

  /** The shared health of the endpoint at {@code address}, created on first sight. */
  HostHealth health(SocketAddr address) {
    HostHealth h = health.get(address);
    if (h != null) {
      return h;
    }
    long now = nanos();
    // hosts present when the cluster first appears are not new: nothing to warm them against
    boolean initial = now - createdNanos < TimeUnit.MILLISECONDS.toNanos(100);
    HostHealth made = new HostHealth(address, initial ? 0 : now);
    var hc = config.policy().healthCheck();
    if (hc.isPresent()) {
      // as Envoy's hosts of an actively health-checked cluster: unhealthy until a first check
      // passes, and with ignore_new_hosts_until_first_hc out of load balancing until it ends
      made.failedActiveHc = true;
      made.pendingActiveHc = hc.get().warmHosts();
    }
    HostHealth was = health.putIfAbsent(address, made);
    if (was != null) {
      return was;
    }
    HealthChecker running = healthChecker;
    if (running != null) {
      running.hostsChanged();
    }
    return made;
  }

  /** Whether {@code address} is ejected now (admin page). */
  boolean ejected(SocketAddr address) {
    HostHealth h = health.get(address);
    return h != null && h.ejected;
  }

  void close() {
    stopTimer();
    HealthChecker h = healthChecker;
    if (h != null) {
      h.stop();
    }
  }

  /** The endpoints' shared states (health checking walks them). */
  java.util.Collection<HostHealth> hosts() {
    return health.values();
  }

  /** An endpoint's active health changed: loops rebuild their view. */
  synchronized void healthChanged() {
    healthVersion++;
  }

  /** The loops holding connections of this cluster, told when a host fails its health check. */
  final java.util.Set<Worker> workers = ConcurrentHashMap.newKeySet();

  /**
   * Active health checking found {@code h} unhealthy: loops rebuild their view and, with {@code
   * close_connections_on_host_health_failure}, close every connection to it (Envoy's {@code
   * onHostHealthFailure}).
   */
  void activeHcFailed(HostHealth h) {
    if (h.pendingRemoval) {
      // as Envoy's EdsClusterImpl::reloadHealthyHostsHelper: kept past its removal until now
      synchronized (this) {
        if (h.pendingRemoval && health.remove(h.address, h)) {
          h.pendingRemoval = false;
          membershipChanged();
          HealthChecker running = healthChecker;
          if (running != null) {
            running.hostsChanged();
          }
        }
      }
    }
    healthChanged();
    if (config.closeOnHealthFailure()) {
      for (Worker w : workers) {
        w.closeConnectionsTo(name, h.address);
      }
    }
  }

  private void clearActiveHc() {
    boolean keptAny = health.values().removeIf(h -> h.pendingRemoval);
    if (keptAny) {
      membershipChanged();
    }
    for (HostHealth h : health.values()) {
      h.failedActiveHc = false;
      h.pendingActiveHc = false;
      h.firstCheck = true;
      h.hcFailures = 0;
      h.hcSuccesses = 0;
    }
    healthVersion++;
  }

  /** The success rate outlier detection last computed for {@code address}, or -1. */
  double successRate(SocketAddr address) {
    HostHealth h = health.get(address);
    return h == null ? -1 : h.successRate;
  }

  /** Envoy's {@code health_flags} of {@code address} for the admin page. */
  String healthFlags(SocketAddr address) {
    HostHealth h = health.get(address);
    if (h == null || !(h.unhealthy() || h.pendingRemoval)) {
      return "healthy";
    }
    // in the order of Envoy's HostUtility::healthFlagsToString
    return (h.failedActiveHc ? "/failed_active_hc" : "")
        + (h.ejected ? "/failed_outlier_check" : "")
        + (h.pendingRemoval ? "/pending_dynamic_removal" : "")
        + (h.pendingActiveHc ? "/pending_active_hc" : "");
  }

  private synchronized void stopTimer() {
    ScheduledFuture<?> f = interval;
    if (f != null) {
      f.cancel(false);
      interval = null;
    }
  }

  // ---- outlier detection: results reported from the request path ----

  /** An HTTP response with {@code status} came from the endpoint. */
  void httpResult(HostHealth h, int status) {
    var o = config.policy().outlier();
    if (o.isEmpty()) {
      return;
    }
    ClusterPolicy.Outlier od = o.get();
    if (od.rates().enabled() && health.size() >= od.rates().minimumHosts()) {
      h.intervalRequests.increment();
      if (status >= 500) {
        h.intervalFailures.increment();
      }
    }
    if (status >= 500) {
      if (h.consecutive5xx.incrementAndGet() == od.consecutive5xx()) {
        eject(h, od.enforcing5xx(), "consecutive_5xx");
      }
      if (status >= 502 && status <= 504) {
        if (h.consecutiveGateway.incrementAndGet() == od.consecutiveGatewayFailure()) {
          eject(h, od.enforcingGatewayFailure(), "consecutive_gateway_failure");
        }
      } else {
        resetIfSet(h.consecutiveGateway);
      }
    } else {
      resetIfSet(h.consecutive5xx);
      resetIfSet(h.consecutiveGateway);
    }
  }

  /**
   * A failure of local origin (connect failure, timeout, reset). With {@code
   * split_external_local_origin_errors} it counts on its own; without, as a 503 (504 for a timeout)
   * from the endpoint, as Envoy maps it.
   */
  void localFailure(HostHealth h, boolean timeout) {
    var o = config.policy().outlier();
    if (o.isEmpty()) {
      return;
    }
    ClusterPolicy.Outlier od = o.get();
    if (od.splitExternalLocalOriginErrors()) {
      if (h.consecutiveLocal.incrementAndGet() == od.consecutiveLocalOriginFailure()) {
        eject(h, od.enforcingLocalOriginFailure(), "consecutive_local_origin_failure");
      }
    } else {
      httpResult(h, timeout ? 504 : 503);
    }
  }

  /** A connection to the endpoint was established (a local-origin success). */
  void localSuccess(HostHealth h) {
    var o = config.policy().outlier();
    if (o.isPresent() && o.get().splitExternalLocalOriginErrors()) {
      resetIfSet(h.consecutiveLocal);
    }
  }

  private static void resetIfSet(java.util.concurrent.atomic.AtomicInteger a) {
    if (a.get() != 0) {
      a.set(0); // read first: a healthy stream of responses writes nothing shared
    }
  }

  private synchronized void eject(HostHealth h, int enforcingPercent, String type) {
    var o = config.policy().outlier();
    if (o.isEmpty() || h.ejected || !health.containsKey(h.address)) {
      return;
    }
    if (enforcingPercent < 100) {
      int roll;
      synchronized (random) { // shared by every cluster of the proxy
        roll = random.nextInt(100);
      }
      if (roll >= enforcingPercent) {
        return;
      }
    }
    int total = health.size();
    long active = health.values().stream().filter(x -> x.ejected).count();
    if (100.0 * (active + 1) / total > o.get().maxEjectionPercent()) {
      stats.outlierEjectionsOverflow().inc();
      return;
    }
    h.ejected = true;
    h.numEjections++;
    h.ejectedAtNanos = nanos();
    healthVersion++;
    stats.outlierEjectionsTotal().inc();
    LOG.log(
        System.Logger.Level.INFO,
        "event=outlier_ejected cluster={0} host={1} type={2} ejections={3}",
        name,
        h.address,
        type,
        h.numEjections);
  }

  /**
   * The detector's interval: brings back hosts whose ejection time ({@code base_ejection_time ×
   * ejections}, at most {@code max(base, max_ejection_time)}) has passed; a host that stayed in
   * through an interval has its ejection count lowered.
   */
  synchronized void onInterval() {
    var o = config.policy().outlier();
    if (o.isEmpty()) {
      return;
    }
    long now = nanos();
    long base = o.get().baseEjectionTime().toNanos();
    long cap = Math.max(base, o.get().maxEjectionTime().toNanos());
    for (HostHealth h : health.values()) {
      if (h.ejected) {
        long time = Math.min(base * h.numEjections, cap);
        if (now - h.ejectedAtNanos >= time) {
          h.ejected = false;
          h.consecutive5xx.set(0);
          h.consecutiveGateway.set(0);
          h.consecutiveLocal.set(0);
          healthVersion++;
          LOG.log(
              System.Logger.Level.INFO,
              "event=outlier_unejected cluster={0} host={1}",
              name,
              h.address);
        }
      } else if (h.numEjections > 0 && now - h.ejectedAtNanos >= base * h.numEjections) {
        h.numEjections--;
      }
    }
    rateDetectors(o.get().rates());
  }

  /** Envoy's success-rate and failure-percentage detectors over the interval just ended. */
  private void rateDetectors(ClusterPolicy.Rates r) {
    if (!r.enabled()) {
      return;
    }
    java.util.List<HostHealth> hosts = java.util.List.copyOf(health.values());
    long[] requests = new long[hosts.size()];
    long[] failures = new long[hosts.size()];
    for (int i = 0; i < hosts.size(); i++) {
      requests[i] = hosts.get(i).intervalRequests.sumThenReset();
      failures[i] = hosts.get(i).intervalFailures.sumThenReset();
      // the admin's success_rate: this interval's, for a host with the detector's request volume
      hosts.get(i).successRate =
          requests[i] >= r.successRateRequestVolume() && requests[i] > 0
              ? 100.0 * (requests[i] - failures[i]) / requests[i]
              : -1;
    }
    if (r.enforcingSuccessRate() > 0) {
      int n = 0;
      double sum = 0;
      for (int i = 0; i < hosts.size(); i++) {
        if (!hosts.get(i).ejected && requests[i] >= r.successRateRequestVolume()) {
          n++;
          sum += 100.0 * (requests[i] - failures[i]) / requests[i];
        }
      }
      if (n > 0 && n >= r.successRateMinimumHosts()) {
        double mean = sum / n;
        double variance = 0;
        for (int i = 0; i < hosts.size(); i++) {
          if (!hosts.get(i).ejected && requests[i] >= r.successRateRequestVolume()) {
            double rate = 100.0 * (requests[i] - failures[i]) / requests[i];
            variance += (rate - mean) * (rate - mean);
          }
        }
        double threshold = mean - r.successRateStdevFactor() / 1000.0 * Math.sqrt(variance / n);
        for (int i = 0; i < hosts.size(); i++) {
          HostHealth h = hosts.get(i);
          if (!h.ejected
              && requests[i] >= r.successRateRequestVolume()
              && 100.0 * (requests[i] - failures[i]) / requests[i] < threshold) {
            eject(h, r.enforcingSuccessRate(), "success_rate");
          }
        }
      }
    }
    if (r.enforcingFailurePercentage() > 0) {
      int n = 0;
      for (int i = 0; i < hosts.size(); i++) {
        if (requests[i] >= r.failurePercentageRequestVolume()) {
          n++;
        }
      }
      if (n >= r.failurePercentageMinimumHosts()) {
        for (int i = 0; i < hosts.size(); i++) {
          HostHealth h = hosts.get(i);
          if (!h.ejected
              && requests[i] >= r.failurePercentageRequestVolume()
              && 100.0 * failures[i] / requests[i] >= r.failurePercentageThreshold()) {
            eject(h, r.enforcingFailurePercentage(), "failure_percentage");
          }
        }
      }
    }
  }
}
