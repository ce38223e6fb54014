package dev.bowline.controlplane;

import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.debug.DebugServer;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.push.Debouncer;
import dev.bowline.controlplane.push.PushRequest;
import dev.bowline.controlplane.registry.MeshRegistry;
import dev.bowline.controlplane.registry.RegistryChange;
import dev.bowline.controlplane.registry.ServiceRegistry;
import dev.bowline.controlplane.xds.gen.Generators;
import dev.bowline.controlplane.xds.server.XdsMetrics;
import dev.bowline.controlplane.xds.server.XdsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The control plane, like istiod's discovery server: the registry and config inputs go in, change
 * events are debounced into pushes, each push builds one immutable {@link PushContext} and the ADS
 * server sends every affected proxy what changed. Debug and metrics are served over HTTP.
 *
 * <p>Lifecycle: {@link #start()}, {@link #isReady()}, {@link #close()}.
 */
public final class ControlPlane implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());

  private final ControlPlaneOptions options;
  private final MeshRegistry registry;
  private final AtomicReference<ConfigInputs> config;
  private final java.util.concurrent.ScheduledExecutorService graceTimer;
  private final AtomicReference<MeshConfig> mesh = new AtomicReference<>(MeshConfig.defaults());
  private final AtomicReference<@org.jspecify.annotations.Nullable ConfigSnapshot> lastSnapshot =
      new AtomicReference<>();
  private final PrometheusMeterRegistry meters;
  private final XdsMetrics metrics;
  private final XdsServer xds;
  private final Debouncer debouncer;
  private final DebugServer debug;
  private final LongSupplier nanoTime;
  private final AtomicLong versions = new AtomicLong();

  /** Pairs {@link #lastSnapshot} with {@link #config}: a push reads both as one. */
  private final Object configLock = new Object();

  private final AtomicLong pushedConfigVersion = new AtomicLong(-1);
  private volatile boolean ready;

  /**
   * A control plane over {@code registry} with the Istio config {@code config} ({@link
   * ConfigInputs#NONE} until the config module provides it).
   */
  public ControlPlane(
      ControlPlaneOptions options, ServiceRegistry registry, ConfigInputs config, Clock clock) {
    this.options = Objects.requireNonNull(options, "options");
    this.registry = new MeshRegistry(Objects.requireNonNull(registry, "registry"));
    this.config = new AtomicReference<>(Objects.requireNonNull(config, "config"));
    this.nanoTime = System::nanoTime;
    this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.metrics = new XdsMetrics(meters);
    this.xds =
        new XdsServer(
            new Generators(),
            metrics,
            newPushContext(),
            options.pushConcurrency(),
            clock,
            nanoTime);
    this.debouncer =
        new Debouncer(
            options.debounceQuiet(),
            options.debounceMax(),
            Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("xds-debounce").factory()),
            nanoTime,
            this::pushNow);
    this.graceTimer =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("workload-entry-grace").factory());
    this.debug = new DebugServer(this::isReady, meters, xds, this.registry);
    this.registry.addListener(this::onRegistryChange);
    xds.setProxyLifecycle(
        new XdsServer.ProxyLifecycle() {
          @Override
          public void connected(String connectionId, Proxy proxy) {
            if (!proxy.autoRegisterGroup().isEmpty()) {
              // istiod's auto-registration: a WorkloadEntry from the group's template while the
              // proxy is connected.
              ControlPlane.this.registry.autoRegister(
                  connectionId,
                  proxy.namespace(),
                  proxy.autoRegisterGroup(),
                  proxy.ipAddress(),
                  proxy.labels());
            }
          }

          @Override
          public void health(
              String connectionId, Proxy proxy, @org.jspecify.annotations.Nullable String why) {
            // istiod: the agent's probe result sets the auto-registered WorkloadEntry's Healthy
            // condition; an unhealthy entry's endpoints are sent UNHEALTHY
            ControlPlane.this.registry.setHealth(connectionId, why);
          }

          @Override
          public void disconnected(String connectionId, Proxy proxy) {
            if (!proxy.autoRegisterGroup().isEmpty()) {
              // istiod keeps the entry for a grace period: a proxy that reconnects within it
              // registers the same entry (<group>-<ip>) again and it never goes away
              Duration grace = options.workloadEntryGrace();
              if (grace.isZero() || grace.isNegative()) {
                ControlPlane.this.registry.unregister(connectionId);
              } else {
                graceTimer.schedule(
                    () -> ControlPlane.this.registry.unregister(connectionId),
                    grace.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
              }
            }
          }
        });
  }

  private PushContext newPushContext() {
    return new PushContext(
        versions.incrementAndGet(), registry.snapshot(), config.get(), mesh.get());
  }

  /** Starts the ADS and debug servers; ready once both listen. */
  public void start() throws IOException {
    // The first proxies get what is in force now (config given before start included), not the
    // context built at construction.
    pushNow(new PushRequest(true, Set.of(), nanoTime.getAsLong(), Set.of("start")));
    xds.start(new InetSocketAddress(options.address(), options.xdsPort()));
    debug.start(new InetSocketAddress(options.address(), options.monitoringPort()));
    ready = true;
    LOG.log(
        Level.INFO,
        "event=control_plane_ready xds_port=" + xds.port() + " monitoring_port=" + debug.port());
  }

  /** Whether it serves. */
  public boolean isReady() {
    return ready;
  }

  /** The ADS port. */
  public int xdsPort() {
    return xds.port();
  }

  /** The debug/metrics port. */
  public int monitoringPort() {
    return debug.port();
  }

  /** The ADS server (sync state, config dumps). */
  public XdsServer xds() {
    return xds;
  }

  /**
   * Replaces the Istio config inputs (the config module calls this after a valid change) and pushes
   * every proxy, debounced. Inputs given before {@link #start()} are in force from the first
   * connection on.
   */
  public void updateConfig(ConfigInputs next, String reason) {
    config.set(Objects.requireNonNull(next, "next"));
    metrics.trigger("config");
    debouncer.submit(new PushRequest(true, Set.of(), nanoTime.getAsLong(), Set.of(reason)));
  }

  /**
   * Replaces the MeshConfig (merged over Istio's defaults and validated by the caller: the config
   * feed's {@code MeshConfigStore}) and pushes every proxy, debounced: every generator reads it
   * from the next {@link PushContext}. Given before {@link #start()}, it is in force from the first
   * connection on.
   */
  public void updateMeshConfig(MeshConfig next, String reason) {
    mesh.set(Objects.requireNonNull(next, "next"));
    metrics.trigger("global");
    debouncer.submit(new PushRequest(true, Set.of(), nanoTime.getAsLong(), Set.of(reason)));
  }

  /** The MeshConfig in force (Istio's defaults until one is given). */
  public MeshConfig meshConfig() {
    return mesh.get();
  }

  /**
   * Serves {@code body} as JSON at {@code path} on the debug port (e.g. {@code /debug/configz}).
   */
  public void addDebugEndpoint(String path, java.util.function.Supplier<Object> body) {
    debug.addJsonEndpoint(path, body);
  }

  /**
   * The merged registry it serves from: the given one plus ServiceEntry, WorkloadEntry and
   * auto-registered workloads from Istio config.
   */
  public MeshRegistry registry() {
    return registry;
  }

  /**
   * Replaces the Istio config: the registry takes its ServiceEntries, WorkloadEntries and
   * WorkloadGroups, the generators {@code inputs}; one debounced push follows.
   */
  public void updateConfig(ConfigSnapshot snapshot, ConfigInputs inputs, String reason) {
    registry.updateConfig(snapshot);
    ConfigSnapshot before;
    synchronized (configLock) {
      before = lastSnapshot.getAndSet(snapshot);
      config.set(Objects.requireNonNull(inputs, "inputs"));
    }
    metrics.trigger("config");
    debouncer.submit(
        new PushRequest(
            true,
            Set.of(),
            nanoTime.getAsLong(),
            Set.of(reason),
            before == null ? null : ConfigChanges.scope(before, snapshot)));
  }

  /** Serves {@code path} on the debug port with {@code handler} (e.g. the config API). */
  public void addDebugHandler(String path, com.sun.net.httpserver.HttpHandler handler) {
    debug.addHandler(path, handler);
  }

  /** The options it runs with. */
  public ControlPlaneOptions options() {
    return options;
  }

  private void onRegistryChange(RegistryChange change) {
    Set<String> reasons = new HashSet<>();
    if (change.servicesChanged()) {
      reasons.add("service");
      metrics.trigger("service");
    }
    if (!change.endpointHosts().isEmpty()) {
      reasons.add("endpoint");
      metrics.trigger("endpoint");
    }
    debouncer.submit(
        new PushRequest(
            change.servicesChanged(), change.endpointHosts(), nanoTime.getAsLong(), reasons));
  }

  private void pushNow(PushRequest request) {
    PushContext next;
    long configVersion;
    synchronized (configLock) {
      ConfigSnapshot s = lastSnapshot.get();
      configVersion = s == null ? -1 : s.version();
      next = newPushContext();
    }
    xds.push(next, request);
    pushedConfigVersion.accumulateAndGet(configVersion, Math::max);
  }

  /**
   * The Istio config store's version ({@link ConfigSnapshot#version}, what {@code /debug/configz}
   * shows as {@code version}) of the config the latest push generated from, or -1 before any: once
   * it reaches a write's version, every proxy that connects from then on is answered from that
   * config (the push context is replaced before this moves). Tests wait on it instead of sleeping
   * through the push's debounce.
   */
  public long pushedConfigVersion() {
    return pushedConfigVersion.get();
  }

  @Override
  public void close() {
    ready = false;
    debouncer.close();
    graceTimer.shutdownNow();
    debug.close();
    xds.close();
    meters.close();
  }
}
