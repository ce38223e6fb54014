package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.xds.gen.TypeUrls;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control plane's xDS metrics under istiod's names. Counters that Istio exposes without a
 * {@code _total} suffix ({@code pilot_xds_pushes}, {@code pilot_total_xds_rejects}) are registered
 * as monotonic gauges so the Prometheus names stay exactly Istio's (see decision 0003).
 */
public final class XdsMetrics {
  private static final double[] PUSH_TIME_BUCKETS = {.01, .1, .5, 1, 3, 5, 10, 20, 30};
  private static final double[] CONVERGENCE_BUCKETS = {.1, .5, 1, 3, 5, 10, 20, 30};
  private static final double[] SIZE_BUCKETS = {
    1, 10_000, 1_000_000, 4_000_000, 10_000_000, 40_000_000
  };

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> pushes = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> rejects = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> connectionsByVersion = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> cacheReads = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> triggers = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> pushTime = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> configSize = new ConcurrentHashMap<>();
  private final DistributionSummary convergence;

  /** Metrics registered in {@code registry}. */
  public XdsMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.convergence =
        DistributionSummary.builder("pilot_proxy_convergence_time")
            .description(
                "Delay in seconds between config change and a proxy receiving all required configuration.")
            .serviceLevelObjectives(CONVERGENCE_BUCKETS)
            .register(registry);
    for (String t : TypeUrls.PUSH_ORDER) {
      pushes(TypeUrls.shortName(t));
      rejects(TypeUrls.shortName(t));
    }
  }

  /** The registry the metrics live in. */
  public MeterRegistry registry() {
    return registry;
  }

  private AtomicLong pushes(String type) {
    return gauge(
        pushes,
        "pilot_xds_pushes",
        "Pilot build and send errors for lds, rds, cds and eds.",
        "type",
        type);
  }

  private AtomicLong rejects(String type) {
    return gauge(
        rejects,
        "pilot_total_xds_rejects",
        "Total number of XDS responses from pilot rejected by proxy.",
        "type",
        type);
  }

  private AtomicLong gauge(
      Map<String, AtomicLong> map, String name, String help, String tag, String value) {
    return map.computeIfAbsent(
        value,
        v -> {
          AtomicLong a = new AtomicLong();
          Gauge.builder(name, a, AtomicLong::doubleValue)
              .description(help)
              .tag(tag, v)
              .register(registry);
          return a;
        });
  }

  void pushed(String typeUrl, double seconds, long bytes) {
    String type = TypeUrls.shortName(typeUrl);
    pushes(type).incrementAndGet();
    pushTime
        .computeIfAbsent(
            type,
            t ->
                DistributionSummary.builder("pilot_xds_push_time")
                    .description("Total time in seconds Pilot takes to push lds, rds, cds and eds.")
                    .tag("type", t)
                    .serviceLevelObjectives(PUSH_TIME_BUCKETS)
                    .register(registry))
        .record(seconds);
    configSize
        .computeIfAbsent(
            type,
            t ->
                DistributionSummary.builder("pilot_xds_config_size_bytes")
                    .description("Distribution of configuration sizes pushed to clients")
                    .tag("type", t)
                    .serviceLevelObjectives(SIZE_BUCKETS)
                    .register(registry))
        .record(bytes);
  }

  void rejected(String typeUrl) {
    rejects(TypeUrls.shortName(typeUrl)).incrementAndGet();
  }

  void connected(String istioVersion) {
    gauge(
            connectionsByVersion,
            "pilot_xds",
            "Number of endpoints connected to this pilot using XDS.",
            "version",
            istioVersion.isEmpty() ? "unknown" : istioVersion)
        .incrementAndGet();
  }

  void disconnected(String istioVersion) {
    gauge(
            connectionsByVersion,
            "pilot_xds",
            "Number of endpoints connected to this pilot using XDS.",
            "version",
            istioVersion.isEmpty() ? "unknown" : istioVersion)
        .decrementAndGet();
  }

  void cacheRead(boolean hit) {
    gauge(
            cacheReads,
            "pilot_xds_cache_reads",
            "Total number of xds cache xdsCache reads.",
            "type",
            hit ? "hit" : "miss")
        .incrementAndGet();
  }

  /** Counts a push trigger ({@code endpoint}, {@code service}, {@code config}). */
  public void trigger(String type) {
    gauge(
            triggers,
            "pilot_push_triggers",
            "Total number of times a push was triggered, labeled by reason for the push.",
            "type",
            type)
        .incrementAndGet();
  }

  void converged(double seconds) {
    convergence.record(seconds);
  }

  /** Pushes sent so far of {@code typeUrl}. */
  public long pushCount(String typeUrl) {
    return pushes(TypeUrls.shortName(typeUrl)).get();
  }

  /** Rejections (NACKs) received so far of {@code typeUrl}. */
  public long rejectCount(String typeUrl) {
    return rejects(TypeUrls.shortName(typeUrl)).get();
  }

  /** Generation cache misses (= generator runs) so far. */
  public long generations() {
    AtomicLong a = cacheReads.get("miss");
    return a == null ? 0 : a.get();
  }
}
