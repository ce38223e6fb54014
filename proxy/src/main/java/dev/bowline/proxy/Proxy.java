package dev.bowline.proxy;

import com.google.protobuf.Timestamp;
import dev.bowline.proxy.admin.AdminServer;
import dev.bowline.proxy.admin.AdminView;
import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.RouteTable;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.listener.ListenerManager;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.upstream.Worker;
import dev.bowline.proxy.xds.ClusterParser;
import dev.bowline.proxy.xds.ListenerParser;
import dev.bowline.proxy.xds.ResourceParser;
import dev.bowline.proxy.xds.XdsClient;
import dev.bowline.proxy.xds.XdsState;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A running proxy: event loops with one worker each, the listeners of the current config, the admin
 * server, and the ADS client when the bootstrap names one. Start with {@link #start}; stop with
 * {@link #close} or {@link #drainAndClose}.
 */
public final class Proxy implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Proxy.class.getName());

  private final Bootstrap bootstrap;
  private final ProxyOptions options;
  private final MultiThreadIoEventLoopGroup group;
  private final ProxyRuntime runtime;
  private final ListenerManager listeners;
  private final Map<String, ListenerConfig> staticListeners;
  private final Map<String, ClusterConfig> staticClusters;
  private final ScheduledExecutorService configThread;
  private final Timestamp started;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile XdsState xds = XdsState.empty();
  private @Nullable XdsClient xdsClient;
  private @Nullable AdminServer admin;
  private long version;

  private Proxy(
      Bootstrap bootstrap,
      ProxyOptions options,
      Map<String, ListenerConfig> staticListeners,
      Map<String, ClusterConfig> staticClusters,
      Stats stats,
      FilterRegistry filters) {
    this.bootstrap = bootstrap;
    this.options = options;
    this.staticListeners = Map.copyOf(staticListeners);
    this.staticClusters = Map.copyOf(staticClusters);
    long now = options.clock().millis();
    this.started =
        Timestamp.newBuilder()
            .setSeconds(now / 1000)
            .setNanos((int) (now % 1000) * 1_000_000)
            .build();
    this.group = options.transport().newEventLoopGroup(options.workers());
    Map<EventExecutor, Worker> workers = new IdentityHashMap<>();
    for (EventExecutor loop : group) {
      workers.put(
          loop,
          new Worker(
              (io.netty.channel.EventLoop) loop,
              options.transport(),
              new SplittableRandom(options.random().nextLong()),
              stats));
    }
    this.runtime =
        new ProxyRuntime(
            new AtomicReference<>(ProxySnapshot.empty()),
            java.util.Collections.unmodifiableMap(workers),
            stats,
            filters,
            new AtomicBoolean());
    this.listeners = new ListenerManager(group, options.transport(), runtime, options.drainTime());
    this.configThread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bowline-config");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts a proxy from {@code bootstrap}: parses its static resources (an invalid one is a {@link
   * BootstrapException} naming it and its field), binds listeners and the admin address, and opens
   * the ADS stream if configured. Returns once static listeners are bound.
   */
  public static Proxy start(Bootstrap bootstrap, ProxyOptions options) {
    Stats stats = new Stats(); // one set of counters, filters' included
    FilterRegistry filters = FilterRegistry.builtIn(stats);
    ListenerParser lp = new ListenerParser(filters);
    ClusterParser cp = new ClusterParser();
    List<String> errors = new ArrayList<>();
    Map<String, ListenerConfig> ls = new HashMap<>();
    var sr = bootstrap.getStaticResources();
    for (int i = 0; i < sr.getListenersCount(); i++) {
      try {
        ListenerConfig l = lp.parseStatic(sr.getListeners(i));
        if (ls.put(l.name(), l) != null) {
          errors.add("static_resources.listeners[" + i + "]: duplicate listener name " + l.name());
        }
      } catch (ResourceParser.ParseFailure e) {
        errors.add("static_resources.listeners[" + i + "]: " + e.getMessage());
      }
    }
    Map<String, ClusterConfig> cs = new HashMap<>();
    for (int i = 0; i < sr.getClustersCount(); i++) {
      try {
        ClusterConfig c = cp.parseStatic(sr.getClusters(i));
        if (cs.put(c.name(), c) != null) {
          errors.add("static_resources.clusters[" + i + "]: duplicate cluster name " + c.name());
        }
      } catch (ResourceParser.ParseFailure e) {
        errors.add("static_resources.clusters[" + i + "]: " + e.getMessage());
      }
    }
    if (sr.getSecretsCount() > 0) {
      errors.add("static_resources.secrets: TLS secrets are not supported yet");
    }
    var dyn = bootstrap.getDynamicResources();
    if (bootstrap.hasDynamicResources()) {
      if (dyn.hasAdsConfig()) {
        var ads = dyn.getAdsConfig();
        if (ads.getApiType() != ApiConfigSource.ApiType.GRPC
            && ads.getApiType() != ApiConfigSource.ApiType.DELTA_GRPC) {
          errors.add(
              "dynamic_resources.ads_config.api_type: "
                  + ads.getApiType()
                  + " is not supported (use GRPC or DELTA_GRPC)");
        }
        if (ads.getGrpcServicesCount() != 1) {
          errors.add("dynamic_resources.ads_config.grpc_services: exactly one is required");
        } else if (ads.getGrpcServices(0).hasEnvoyGrpc()
            && !cs.containsKey(ads.getGrpcServices(0).getEnvoyGrpc().getClusterName())) {
          errors.add(
              "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: no static cluster named '"
                  + ads.getGrpcServices(0).getEnvoyGrpc().getClusterName()
                  + "'");
        }
      }
      if (dyn.hasLdsConfig() && !dyn.getLdsConfig().hasAds()) {
        errors.add("dynamic_resources.lds_config: only ads is supported");
      }
      if (dyn.hasCdsConfig() && !dyn.getCdsConfig().hasAds()) {
        errors.add("dynamic_resources.cds_config: only ads is supported");
      }
      if ((dyn.hasLdsConfig() || dyn.hasCdsConfig()) && !dyn.hasAdsConfig()) {
        errors.add("dynamic_resources.ads_config: required when lds_config or cds_config use ads");
      }
    }
    if (!errors.isEmpty()) {
      throw new BootstrapException("invalid bootstrap: " + String.join("; ", errors));
    }
    Proxy p = new Proxy(bootstrap, options, ls, cs, stats, filters);
    try {
      p.begin(lp);
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  private void begin(ListenerParser lp) {
    publishOnConfigThread(XdsState.empty());
    if (bootstrap.hasAdmin() && bootstrap.getAdmin().hasAddress()) {
      var a = bootstrap.getAdmin().getAddress().getSocketAddress();
      admin =
          AdminServer.start(
              new SocketAddr(a.getAddress(), a.getPortValue()),
              group,
              options.transport(),
              new View());
    }
    var dyn = bootstrap.getDynamicResources();
    if (dyn.hasAdsConfig()) {
      XdsClient client =
          new XdsClient(
              bootstrap.getNode(),
              channel(dyn.getAdsConfig().getGrpcServices(0)),
              lp,
              configThread,
              this::publish,
              options.clock(),
              new SplittableRandom(options.random().nextLong()),
              options.xdsInitialBackoff(),
              options.xdsMaxBackoff(),
              dyn.getAdsConfig().getApiType() == ApiConfigSource.ApiType.DELTA_GRPC);
      xdsClient = client;
      client.addStaticListeners(List.copyOf(staticListeners.values()));
      client.addStaticClusters(List.copyOf(staticClusters.values()));
      client.start();
    }
    LOG.log(
        Level.INFO,
        "event=proxy_started node={0} workers={1} transport={2} listeners={3}",
        bootstrap.getNode().getId(),
        options.workers(),
        options.transport().displayName(),
        listeners.bound().size());
  }

  private ManagedChannel channel(GrpcService service) {
    if (service.hasEnvoyGrpc()) {
      ClusterConfig c = staticClusters.get(service.getEnvoyGrpc().getClusterName());
      if (c != null && c.discovery() instanceof ClusterConfig.Dns dns) {
        // let gRPC resolve the name itself (and re-resolve on reconnect)
        var hp = dns.hosts().getFirst();
        return NettyChannelBuilder.forAddress(hp.host(), hp.port()).usePlaintext().build();
      }
      Endpoints e = c == null ? null : runtime.snapshot().endpointsOf(c).orElse(null);
      if (e == null || e.endpoints().isEmpty()) {
        throw new BootstrapException(
            "dynamic_resources.ads_config: cluster "
                + service.getEnvoyGrpc().getClusterName()
                + " has no static endpoint");
      }
      SocketAddr a = e.endpoints().getFirst().address();
      return NettyChannelBuilder.forAddress(new InetSocketAddress(a.ip(), a.port()))
          .usePlaintext()
          .build();
    }
    if (service.hasGoogleGrpc()) {
      return NettyChannelBuilder.forTarget(service.getGoogleGrpc().getTargetUri())
          .usePlaintext()
          .build();
    }
    throw new BootstrapException(
        "dynamic_resources.ads_config.grpc_services[0]: envoy_grpc or google_grpc is required");
  }

  /** Called by the xDS client on the config thread. */
  private void publish(XdsState state) {
    xds = state;
    Map<String, ListenerConfig> l = new HashMap<>(state.listeners());
    l.putAll(staticListeners); // static resources win, as in Envoy
    Map<String, ClusterConfig> c = new HashMap<>(state.clusters());
    c.putAll(staticClusters);
    Map<String, RouteTable> r = state.routes();
    Map<String, Endpoints> e = state.endpoints();
    followDns(c);
    ProxySnapshot next = new ProxySnapshot(++version, l, r, c, e, resolved);
    runtime.config().set(next);
    listeners.apply(next);
    var names = java.util.Set.copyOf(c.keySet());
    for (var entry : runtime.workers().entrySet()) {
      entry.getKey().execute(() -> entry.getValue().retain(names));
    }
    LOG.log(
        Level.DEBUG,
        "event=config_published version={0} listeners={1} clusters={2}",
        version,
        l.size(),
        c.size());
  }

  /**
   * Starts or stops periodic resolution for DNS clusters (on the config thread: a slow resolver
   * delays config, never a request). A new cluster is resolved at once; a failed lookup keeps the
   * last good addresses, as Envoy does.
   */
  private void followDns(Map<String, ClusterConfig> clusters) {
    var it = dnsTasks.entrySet().iterator();
    while (it.hasNext()) {
      var t = it.next();
      ClusterConfig c = clusters.get(t.getKey());
      if (c == null || !(c.discovery() instanceof ClusterConfig.Dns)) {
        t.getValue().cancel(false);
        resolved.remove(t.getKey());
        it.remove();
      }
    }
    for (ClusterConfig c : clusters.values()) {
      if (c.discovery() instanceof ClusterConfig.Dns dns && !dnsTasks.containsKey(c.name())) {
        resolve(c.name(), dns);
        long every = dns.refresh().toMillis();
        dnsTasks.put(
            c.name(),
            configThread.scheduleWithFixedDelay(
                () -> {
                  if (resolve(c.name(), dns)) {
                    publish(xds);
                  }
                },
                every,
                every,
                TimeUnit.MILLISECONDS));
      }
    }
  }

  /** Resolves a DNS cluster; true when its addresses changed. */
  private boolean resolve(String cluster, ClusterConfig.Dns dns) {
    List<Endpoints.Endpoint> list = new ArrayList<>();
    for (ClusterConfig.HostPort hp : dns.hosts()) {
      try {
        java.net.InetAddress[] all = java.net.InetAddress.getAllByName(hp.host());
        for (java.net.InetAddress a : dns.logical() ? List.of(all[0]) : List.of(all)) {
          list.add(
              new Endpoints.Endpoint(new SocketAddr(a.getHostAddress(), hp.port()), hp.weight()));
        }
      } catch (java.net.UnknownHostException ex) {
        LOG.log(Level.INFO, "event=dns_failed cluster={0} host={1}", cluster, hp.host());
        return false;
      }
    }
    Endpoints next = new Endpoints(cluster, list);
    if (next.equals(resolved.get(cluster))) {
      return false;
    }
    resolved.put(cluster, next);
    return true;
  }

  private final Map<String, Endpoints> resolved = new HashMap<>();
  private final Map<String, java.util.concurrent.ScheduledFuture<?>> dnsTasks = new HashMap<>();

  private void publishOnConfigThread(XdsState state) {
    try {
      configThread.submit(() -> publish(state)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(
          "cannot apply the static config: " + e.getCause(), e.getCause());
    }
  }

  /** The config now serving. */
  public ProxySnapshot snapshot() {
    return runtime.snapshot();
  }

  /** The bound address of listener {@code name}, if it is bound. */
  public Optional<SocketAddr> listenerAddress(String name) {
    return listeners.boundAddress(name);
  }

  /** The admin server's address, when the bootstrap has one. */
  public Optional<InetSocketAddress> adminAddress() {
    AdminServer a = admin;
    return a == null ? Optional.empty() : Optional.of(a.address());
  }

  /** The proxy's counters. */
  public Stats stats() {
    return runtime.stats();
  }

  /** Whether the first config is applied: static listeners bound and, with ADS, LDS and CDS in. */
  public boolean ready() {
    return !closed.get() && (xdsClient == null || xds.initialized());
  }

  /**
   * Stops accepting, lets open connections finish (HTTP/1.1 responses carry {@code connection:
   * close}) for at most {@code drainTime}, then closes everything.
   */
  public void drainAndClose(Duration drainTime) {
    runtime.draining().set(true);
    listeners.stopAccepting();
    long deadline = System.nanoTime() + drainTime.toNanos();
    while (listeners.openConnections() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    close();
  }

  /** Blocks until the proxy has stopped. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    XdsClient c = xdsClient;
    if (c != null) {
      c.close();
    }
    AdminServer a = admin;
    if (a != null) {
      a.close();
    }
    listeners.close();
    configThread.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    terminated.countDown();
    LOG.log(Level.INFO, "event=proxy_stopped node={0}", bootstrap.getNode().getId());
  }

  /** The admin server's view of this proxy. */
  private final class View implements AdminView {
    @Override
    public boolean ready() {
      return Proxy.this.ready();
    }

    @Override
    public String configDump(boolean includeEds) {
      return ConfigDumps.render(bootstrap, started, xds, includeEds);
    }

    @Override
    public String clusters() {
      ProxySnapshot s = runtime.snapshot();
      StringBuilder sb = new StringBuilder();
      s.clusters().values().stream()
          .sorted(java.util.Comparator.comparing(ClusterConfig::name))
          .forEach(
              c -> {
                String n = c.name();
                sb.append(n).append("::observability_name::").append(n).append('\n');
                sb.append(n)
                    .append("::added_via_api::")
                    .append(!staticClusters.containsKey(n))
                    .append('\n');
                var stats = runtime.stats().cluster(n);
                for (Endpoints.Endpoint e :
                    s.endpointsOf(c).map(Endpoints::endpoints).orElse(List.of())) {
                  String h = n + "::" + e.address() + "::";
                  sb.append(h).append("health_flags::healthy\n");
                  sb.append(h).append("weight::").append(e.weight()).append('\n');
                }
                sb.append(n)
                    .append("::upstream_rq_total::")
                    .append(stats.upstreamRqTotal().value())
                    .append('\n');
              });
      return sb.toString();
    }

    @Override
    public String listeners() {
      StringBuilder sb = new StringBuilder();
      for (var b : listeners.bound()) {
        sb.append(b.name())
            .append("::")
            .append(
                new SocketAddr(b.address().getAddress().getHostAddress(), b.address().getPort()))
            .append('\n');
      }
      return sb.toString();
    }

    @Override
    public String stats() {
      return runtime.stats().text();
    }

    @Override
    public String prometheus() {
      return runtime.stats().prometheus();
    }

    @Override
    public String serverInfo() {
      return "{\"version\":\"bowline\",\"state\":\""
          + (ready() ? "LIVE" : "PRE_INITIALIZING")
          + "\",\"command_line_options\":{},\"node\":{\"id\":\""
          + bootstrap.getNode().getId().replace("\"", "\\\"")
          + "\"}}";
    }

    @Override
    public void drainListeners() {
      runtime.draining().set(true);
      Thread.ofPlatform().daemon().start(listeners::stopAccepting);
    }

    @Override
    public void quit() {
      Thread.ofPlatform().name("bowline-quit").start(Proxy.this::close);
    }
  }
}
