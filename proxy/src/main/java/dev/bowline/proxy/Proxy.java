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
import dev.bowline.proxy.http.filter.FilterEnvironment;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.http.filter.NodeInfo;
import dev.bowline.proxy.listener.ListenerManager;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.tls.SdsClient;
import dev.bowline.proxy.tls.SdsSource;
import dev.bowline.proxy.tls.SecretKey;
import dev.bowline.proxy.tls.SecretStore;
import dev.bowline.proxy.tls.TlsContexts;
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
  private final dev.bowline.proxy.upstream.ClusterStates clusterStates;
  private final ProxyRuntime runtime;
  private final ListenerManager listeners;
  private final Map<String, ListenerConfig> staticListeners;
  private final Map<String, ClusterConfig> staticClusters;
  private final SecretStore secrets;
  private final TlsContexts tlsContexts;

  /**
   * Static clusters whose endpoint is a Unix socket ({@code pipe}): only gRPC services use them.
   */
  private final Map<String, String> pipeClusters;

  /** SDS streams by source cluster, opened when the config first names a secret there. */
  private final Map<String, SdsClient> sdsClients = new HashMap<>();

  private io.netty.channel.@Nullable EventLoopGroup sdsGroup;

  /** SDS source clusters named by the config but absent from the bootstrap (warned once). */
  private final java.util.Set<String> missingSdsSources = new java.util.HashSet<>();

  private final ScheduledExecutorService configThread;
  private final Timestamp started;
  private final CountDownLatch terminated = new CountDownLatch(1);
  // Netty's loggers whose lines a peer causes per frame or connection, made debug; kept here, as
  // java.util.logging forgets the level of a logger nobody holds
  private final List<java.util.logging.Logger> quietNetty = PeerLogs.quiet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile XdsState xds = XdsState.empty();
  private @Nullable XdsClient xdsClient;
  private @Nullable AdminServer admin;
  private dev.bowline.proxy.accesslog.@Nullable AccessLogWriter accessLogs;
  private dev.bowline.proxy.tracing.@Nullable SpanReporter spans;
  private long version;
  private final dev.bowline.proxy.xds.XdsStats xdsStats;
  private final long startedMillis;

  /** Clusters whose {@code membership_*} gauges are registered (config thread only). */
  private final java.util.Set<String> membershipGauges = new java.util.HashSet<>();

  private Proxy(
      Bootstrap bootstrap,
      ProxyOptions options,
      Map<String, ListenerConfig> staticListeners,
      Map<String, ClusterConfig> staticClusters,
      Map<String, String> pipeClusters,
      Stats stats,
      FilterRegistry filters,
      AtomicReference<ProxySnapshot> config,
      dev.bowline.proxy.runtime.RuntimeValues runtimeValues) {
    this.pipeClusters = Map.copyOf(pipeClusters);
    this.bootstrap = bootstrap;
    this.options = options;
    this.staticListeners = Map.copyOf(staticListeners);
    this.staticClusters = Map.copyOf(staticClusters);
    long now = options.clock().millis();
    this.startedMillis = now;
    this.started =
        Timestamp.newBuilder()
            .setSeconds(now / 1000)
            .setNanos((int) (now % 1000) * 1_000_000)
            .build();
    this.group = options.transport().newEventLoopGroup(options.workers());
    this.secrets = new SecretStore();
    this.tlsContexts =
        new TlsContexts(
            secrets,
            !"jdk".equalsIgnoreCase(System.getProperty("bowline.tls.provider", "")),
            options.clock());
    Map<EventExecutor, Worker> workers = new IdentityHashMap<>();
    // circuit breakers and outlier detection are cluster-wide, shared by every loop (Envoy)
    this.clusterStates =
        new dev.bowline.proxy.upstream.ClusterStates(
            stats,
            System::nanoTime,
            (io.netty.channel.EventLoop) group.next(),
            options.transport().socketChannelClass(),
            new SplittableRandom(options.random().nextLong()));
    for (EventExecutor loop : group) {
      workers.put(
          loop,
          new Worker(
              (io.netty.channel.EventLoop) loop,
              options.transport(),
              new SplittableRandom(options.random().nextLong()),
              stats,
              clusterStates,
              tlsContexts));
    }
    this.runtime =
        new ProxyRuntime(
            config,
            java.util.Collections.unmodifiableMap(workers),
            stats,
            filters,
            new AtomicBoolean(),
            tlsContexts,
            runtimeValues,
            new AtomicBoolean()); // the admin's /healthcheck/fail until /healthcheck/ok
    this.listeners = new ListenerManager(group, options.transport(), runtime, options.drainTime());
    this.xdsStats = new dev.bowline.proxy.xds.XdsStats(stats);
    serverGauges(stats);
    var configExecutor =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "bowline-config");
              t.setDaemon(true);
              return t;
            });
    // The thread ends after a second without work (a periodic DNS refresh keeps it) and is
    // started again by the next task: while idle, its parked, interpreted stack is not among the
    // roots every young pause walks. Decision 0037, addendum 8.
    configExecutor.setKeepAliveTime(1, TimeUnit.SECONDS);
    configExecutor.allowCoreThreadTimeOut(true);
    // A cancelled timer (a NACK's backoff, the initial fetch timeout) leaves the queue at once
    // rather than keeping the thread until it was due.
    configExecutor.setRemoveOnCancelPolicy(true);
    this.configThread = configExecutor;
  }

  /**
   * The bootstrap's {@code cluster_manager.upstream_bind_config}: how clusters without one of their
   * own bind; an error is added to {@code errors}.
   */
  private static dev.bowline.proxy.config.UpstreamBind bootstrapBind(
      Bootstrap bootstrap, List<String> errors) {
    if (!bootstrap.getClusterManager().hasUpstreamBindConfig()) {
      return dev.bowline.proxy.config.UpstreamBind.NONE;
    }
    try {
      return dev.bowline.proxy.xds.BindParser.parse(
          bootstrap.getClusterManager().getUpstreamBindConfig(),
          "cluster_manager.upstream_bind_config");
    } catch (dev.bowline.proxy.xds.InvalidResourceException e) {
      errors.add(e.getMessage());
      return dev.bowline.proxy.config.UpstreamBind.NONE;
    }
  }

  /**
   * Starts a proxy from {@code bootstrap}: parses its static resources (an invalid one is a {@link
   * BootstrapException} naming it and its field), binds listeners and the admin address, and opens
   * the ADS stream if configured. Returns once static listeners are bound.
   */
  public static Proxy start(Bootstrap bootstrap, ProxyOptions options) {
    Stats stats = new Stats();
    var node = bootstrap.getNode();
    FilterRegistry filters =
        FilterRegistry.builtIn(
            new FilterEnvironment(
                new NodeInfo(node.getId(), node.getCluster(), node.getMetadata()),
                stats,
                options.clock()));
    var accessLogs = new dev.bowline.proxy.accesslog.AccessLogWriter(1000, 100_000);
    AtomicReference<ProxySnapshot> config = new AtomicReference<>(ProxySnapshot.empty());
    // spans leave in batches of up to 512 within 1 s; at most 10,000 wait (more are dropped)
    var spans = new dev.bowline.proxy.tracing.SpanReporter(config::get, stats, 10_000, 512, 1000);
    ListenerParser lp =
        new ListenerParser(
            filters,
            accessLogs,
            spans,
            new dev.bowline.proxy.tracing.TracingConfig.LocalNode(
                node.getId(), node.getCluster(), node.getLocality().getZone()));
    List<String> errors = new ArrayList<>();
    ClusterParser cp = new ClusterParser(filters, bootstrapBind(bootstrap, errors));
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
    Map<String, String> pipes = new HashMap<>();
    for (int i = 0; i < sr.getClustersCount(); i++) {
      var pipe = SdsClusters.pipePath(sr.getClusters(i));
      if (pipe.isPresent()) {
        pipes.put(sr.getClusters(i).getName(), pipe.get());
        continue;
      }
      try {
        ClusterConfig c = cp.parseStatic(sr.getClusters(i));
        if (cs.put(c.name(), c) != null) {
          errors.add("static_resources.clusters[" + i + "]: duplicate cluster name " + c.name());
        }
      } catch (ResourceParser.ParseFailure e) {
        errors.add("static_resources.clusters[" + i + "]: " + e.getMessage());
      }
    }
    Map<String, dev.bowline.proxy.tls.Secret> staticSecrets = new HashMap<>();
    var secretParser = new dev.bowline.proxy.xds.SecretParser();
    for (int i = 0; i < sr.getSecretsCount(); i++) {
      try {
        staticSecrets.put(sr.getSecrets(i).getName(), secretParser.parseStatic(sr.getSecrets(i)));
      } catch (ResourceParser.ParseFailure e) {
        errors.add("static_resources.secrets[" + i + "]: " + e.getMessage());
      }
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
    var runtimeValues =
        dev.bowline.proxy.runtime.RuntimeValues.of(bootstrap.getLayeredRuntime(), errors);
    ClusterConfig.DnsResolver dnsDefault = null;
    if (bootstrap.hasTypedDnsResolverConfig()
        || bootstrap.hasDnsResolutionConfig()
        || bootstrap.getUseTcpForDnsLookups()) { // read only when set: a static start loads less
      try {
        dnsDefault = dev.bowline.proxy.xds.DnsResolverParser.bootstrap(bootstrap);
      } catch (dev.bowline.proxy.xds.InvalidResourceException e) {
        errors.add(e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new BootstrapException("invalid bootstrap: " + String.join("; ", errors));
    }
    Proxy p = new Proxy(bootstrap, options, ls, cs, pipes, stats, filters, config, runtimeValues);
    p.spans = spans;
    p.bootstrapResolver = dnsDefault;
    spans.useTls(p.tlsContexts); // collectors behind TLS clusters: the proxy's contexts and SDS
    staticSecrets.forEach(
        (name, secret) -> p.secrets.put(new SecretKey(new SdsSource.Static(), name), secret));
    p.accessLogs = accessLogs;
    try {
      p.begin(lp);
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  /**
   * Envoy's server and manager gauges, read when the stats are shown: {@code server.state} (0 LIVE,
   * 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING), {@code server.live}, {@code server.uptime}
   * (seconds), {@code server.concurrency} (workers), {@code server.total_connections} (open
   * downstream connections, draining ones included), {@code listener_manager.workers_started} (1
   * once initialised, when Envoy starts its workers), {@code
   * listener_manager.total_listeners_active}/{@code _draining}, {@code
   * cluster_manager.active_clusters}.
   */
  private void serverGauges(Stats stats) {
    gauge(stats, "server.state", this::serverState);
    gauge(stats, "server.live", () -> runtime.drainClose() ? 0 : 1);
    gauge(stats, "server.uptime", () -> (options.clock().millis() - startedMillis) / 1000);
    gauge(stats, "server.concurrency", options::workers);
    gauge(stats, "server.total_connections", listeners::openConnectionsNow);
    gauge(stats, "listener_manager.workers_started", () -> initialized() ? 1 : 0);
    gauge(
        stats,
        "listener_manager.total_listeners_active",
        // less those whose bind after warming failed: Envoy removed them
        () -> runtime.snapshot().listeners().size() - listeners.heldOutCountNow());
    gauge(stats, "listener_manager.total_listeners_draining", listeners::drainingCount);
    gauge(stats, "cluster_manager.active_clusters", () -> runtime.snapshot().clusters().size());
  }

  private static void gauge(Stats stats, String name, java.util.function.LongSupplier source) {
    stats.gauge(name, "envoy_" + name.replace('.', '_'), Map.of(), source);
  }

  /**
   * Envoy's {@code server.state} ({@code Utility::serverState}): once initialised, LIVE unless the
   * health check is failed ({@code /healthcheck/fail}), DRAINING then; DRAINING also while the
   * proxy drains or stops.
   */
  private long serverState() {
    if (closed.get() || runtime.draining().get()) {
      return 1; // DRAINING
    }
    if (initialized()) {
      return runtime.healthCheckFailed().get() ? 1 : 0; // DRAINING : LIVE
    }
    // Envoy initialises its cluster manager (CDS, EDS) before it starts its init manager
    return !usesAds() || xdsStats.clustersWarm() ? 3 : 2;
  }

  /** Envoy's name of {@link #serverState}, as {@code /ready} and {@code /server_info} show it. */
  private String stateName() {
    return switch ((int) serverState()) {
      case 0 -> "LIVE";
      case 1 -> "DRAINING";
      case 2 -> "PRE_INITIALIZING";
      default -> "INITIALIZING";
    };
  }

  /**
   * Registers {@code cluster.<stat name>.membership_total} and {@code _healthy} (endpoints not
   * ejected by outlier detection) of each cluster of {@code clusters} not seen yet under its stat
   * name ({@code alt_stat_name}, else its name), read from the snapshot serving when the stats are
   * shown. On the config thread.
   */
  private void membershipGauges(java.util.Collection<ClusterConfig> clusters) {
    for (ClusterConfig c : clusters) {
      String n = c.name();
      String sn = c.statName();
      if (!membershipGauges.add(n.equals(sn) ? n : n + '\0' + sn)) {
        continue;
      }
      Map<String, String> tags = Map.of("envoy_cluster_name", sn);
      runtime
          .stats()
          .gauge(
              "cluster." + sn + ".membership_total",
              "envoy_cluster_membership_total",
              tags,
              () -> members(n, false));
      runtime
          .stats()
          .gauge(
              "cluster." + sn + ".membership_healthy",
              "envoy_cluster_membership_healthy",
              tags,
              () -> members(n, true));
    }
  }

  private long members(String cluster, boolean healthyOnly) {
    ProxySnapshot s = runtime.snapshot();
    ClusterConfig c = s.clusters().get(cluster);
    if (c == null) {
      return 0;
    }
    long n = 0;
    for (Endpoints.Endpoint e : s.endpointsOf(c).map(Endpoints::endpoints).orElse(List.of())) {
      if (!healthyOnly || !clusterStates.ejected(cluster, e.address())) {
        n++;
      }
    }
    return n;
  }

  private void begin(ListenerParser lp) {
    xdsStats.staticResources(staticListeners.size(), staticClusters.size());
    // Envoy adds the bootstrap's listeners in order and refuses one whose address an earlier one
    // has, before any socket is made; its start-up then fails with that error
    Map<InetSocketAddress, String> addresses = new HashMap<>();
    for (var proto : bootstrap.getStaticResources().getListenersList()) {
      ListenerConfig l = staticListeners.get(proto.getName());
      if (l != null
          && ListenerManager.claimsAddress(l)
          && addresses.putIfAbsent(l.address().toInet(), l.name()) != null) {
        throw new BootstrapException(
            "static_resources.listeners: " + ListenerManager.duplicateAddress(l));
      }
    }
    publishOnConfigThread(XdsState.empty());
    for (String name : new java.util.TreeSet<>(staticListeners.keySet())) {
      // Envoy binds a bootstrap listener's socket while it loads the bootstrap and exits 1 if it
      // cannot (ListenerManagerImpl::addOrUpdateListener returns the bind error)
      var failure = listeners.bindFailure(name);
      if (failure.isPresent()) {
        throw new BootstrapException(
            "static_resources.listeners: listener '" + name + "' " + failure.get());
      }
    }
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
              dyn.getAdsConfig().getApiType() == ApiConfigSource.ApiType.DELTA_GRPC,
              secrets,
              bootstrapBind(bootstrap, new ArrayList<>())); // start() reported its errors
      xdsClient = client;
      client.listenerCheck(listeners::bindable); // Envoy NACKs an LDS listener it cannot bind
      client.listenerOut(listeners::heldOut); // failed after warming: out until LDS sends it
      // a new cluster with active health checks warms until its first round of checks ends
      client.clusterWarm(clusterStates::warmed);
      clusterStates.onHcInitialized(client::republish);
      listeners.onRemovedOut(xdsStats::listenerRemovedOut);
      xdsStats.heldOut(listeners::heldOutNow);
      client.stats(xdsStats);
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
    listeners.pinReplaced(runtime.snapshot(), next); // before any request can see next
    runtime.config().set(next);
    XdsState followed = secretsFollowed;
    if (followed == null
        || state.clusters() != followed.clusters()
        || state.listeners() != followed.listeners()) {
      followSecrets(next);
      secretsFollowed = state;
    }
    listeners.apply(next);
    var names = java.util.Set.copyOf(c.keySet());
    membershipGauges(c.values());
    clusterStates.retain(names);
    clusterStates.startHealthChecks(next); // as Envoy: when the cluster initialises
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
   * The xDS state whose clusters and listeners {@link #followSecrets} last followed (with the
   * static ones, which never change), or null. The xDS client publishes the same map when none of
   * its clusters (listeners) changed, as after a push's EDS and RDS answers: then the TLS configs
   * in force, the secrets they name and so what {@code followSecrets} does are the same, and it is
   * skipped; it walked every cluster's TLS config per publication, ~27% of the config thread's CPU
   * in a full push on a 2,000-service sidecar (decision 0004, session 16 addendum push13). On the
   * config thread.
   */
  private @Nullable XdsState secretsFollowed;

  /**
   * Subscribes each SDS source to exactly the secrets the config names there (opening the stream on
   * first use) and forgets SSL contexts of configs no longer in force. On the config thread.
   */
  private void followSecrets(ProxySnapshot next) {
    Map<String, java.util.Set<String>> wanted = new HashMap<>();
    List<Object> live = new ArrayList<>();
    for (var tls : TlsUse.upstream(next)) {
      live.add(tls);
      TlsUse.collect(tls.common(), wanted);
    }
    for (var tls : TlsUse.downstream(next)) {
      live.add(tls);
      TlsUse.collect(tls.common(), wanted);
    }
    tlsContexts.retain(live);
    for (var e : wanted.entrySet()) {
      SdsClient c = sdsClients.get(e.getKey());
      if (c == null) {
        ManagedChannel ch;
        try {
          ch = sdsChannel(e.getKey());
        } catch (BootstrapException ex) {
          if (!missingSdsSources.add(e.getKey())) {
            continue; // reported once
          }
          LOG.log(
              Level.WARNING,
              "event=sds_source_invalid cluster={0} error=\"{1}\"",
              e.getKey(),
              ex.getMessage());
          continue;
        }
        c =
            new SdsClient(
                new SdsSource.Grpc(e.getKey()), ch, bootstrap.getNode(), secrets, configThread);
        sdsClients.put(e.getKey(), c);
      }
      c.subscribe(e.getValue());
    }
    for (var e : sdsClients.entrySet()) {
      if (!wanted.containsKey(e.getKey())) {
        e.getValue().subscribe(java.util.Set.of());
      }
    }
  }

  /** A gRPC channel to static cluster {@code name}: a Unix socket ({@code pipe}) or TCP. */
  private ManagedChannel sdsChannel(String name) {
    String pipe = pipeClusters.get(name);
    if (pipe != null) {
      if (sdsGroup == null) {
        sdsGroup = SdsClusters.newGroup();
      }
      return SdsClusters.unixChannel(pipe, java.util.Objects.requireNonNull(sdsGroup));
    }
    if (!staticClusters.containsKey(name)) {
      throw new BootstrapException("sds_config: no static cluster named '" + name + "'");
    }
    return channel(
        GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(name))
            .build());
  }

  /**
   * Whether every SDS secret the config names has arrived, among those that can: a secret whose
   * gRPC source is not a static cluster of the bootstrap never will (its TLS connections fail, as
   * in Envoy), and waiting for it would keep a proxy without an agent unready for good.
   */
  private boolean secretsReady() {
    return unreadySecrets().isEmpty();
  }

  /** The SDS secrets {@link #secretsReady} waits for, by name, in the config's order. */
  private java.util.SequencedSet<String> unreadySecrets() {
    java.util.SequencedSet<String> missing = new java.util.LinkedHashSet<>();
    ProxySnapshot s = runtime.snapshot();
    List<dev.bowline.proxy.tls.CommonTls> all = new ArrayList<>();
    TlsUse.upstream(s).forEach(t -> all.add(t.common()));
    TlsUse.downstream(s).forEach(t -> all.add(t.common()));
    for (var common : all) {
      for (SecretKey k : common.sdsSecrets()) {
        // ADS secrets do not hold readiness either: a credentialName whose Secret does not exist
        // yet must not keep a gateway (and its other listeners) unready; its chain refuses TLS
        // connections until the secret arrives (decision 0022).
        boolean reachable =
            switch (k.source()) {
              case SdsSource.Grpc g ->
                  pipeClusters.containsKey(g.cluster()) || staticClusters.containsKey(g.cluster());
              case SdsSource.Ads a -> false;
              case SdsSource.Static st -> true;
            };
        if (reachable && secrets.get(k).isEmpty()) {
          missing.add(k.name());
        }
      }
    }
    return missing;
  }

  /**
   * What the server's initialisation still waits for, as {@code /init_dump} names it: {@code CDS}
   * and {@code LDS} before ADS delivered them, {@code SdsApi <name>} per SDS secret not in yet (the
   * name Envoy's SDS init target has), {@code HealthCheck <cluster>} per static cluster whose first
   * round of health checks has not ended. Empty once initialised.
   */
  private List<String> unreadyTargets() {
    if (initialized()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (usesAds() && !xds.initialized()) {
      if (!xdsStats.clustersWarm()) {
        out.add("CDS");
      }
      out.add("LDS");
    }
    for (String name : unreadySecrets()) {
      out.add("SdsApi " + name);
    }
    ProxySnapshot s = runtime.snapshot();
    for (ClusterConfig c : staticClusters.values()) {
      if (c.policy().healthCheck().isPresent()
          && s.endpointsOf(c).map(e -> !e.endpoints().isEmpty()).orElse(false)
          && !clusterStates.hcInitialized(List.of(c))) {
        out.add("HealthCheck " + c.name());
      }
    }
    return out;
  }

  /** The proxy's secrets (static and from SDS). */
  public SecretStore secrets() {
    return secrets;
  }

  /** The SSL contexts in use; tells which TLS implementation runs. */
  public TlsContexts tls() {
    return tlsContexts;
  }

  /**
   * Starts or stops periodic resolution for DNS clusters, as Envoy's STRICT_DNS and LOGICAL_DNS
   * clusters: a new cluster (or one whose DNS settings changed) is resolved at once, and this waits
   * for that first answer (at most {@link #FIRST_LOOKUP_WAIT}) as Envoy's cluster warming does, so
   * the config it publishes has the cluster's addresses. Lookups run on an event loop ({@link
   * dev.bowline.proxy.dns.DnsLookups}: non-blocking, created with the first DNS cluster); their
   * answers are applied on the config thread. A failed lookup keeps the last good addresses, and
   * the next comes after {@code dns_failure_refresh_rate}'s backoff when set, else after the
   * refresh rate; after a success, after the refresh rate, or the answer's TTL with {@code
   * respect_dns_ttl}.
   */
  private void followDns(Map<String, ClusterConfig> clusters) {
    var it = dnsTasks.entrySet().iterator();
    while (it.hasNext()) {
      var t = it.next();
      ClusterConfig c = clusters.get(t.getKey());
      if (c == null || !t.getValue().dns.equals(c.discovery())) {
        t.getValue().stop();
        if (c == null || !(c.discovery() instanceof ClusterConfig.Dns)) {
          resolved.remove(t.getKey());
        }
        it.remove();
      }
    }
    List<DnsFollow> started = new ArrayList<>();
    for (ClusterConfig c : clusters.values()) {
      if (c.discovery() instanceof ClusterConfig.Dns dns && !dnsTasks.containsKey(c.name())) {
        DnsFollow f = new DnsFollow(c.name(), dns);
        dnsTasks.put(c.name(), f);
        started.add(f);
      }
    }
    var lookups = dnsLookups;
    if (lookups != null) {
      java.util.Set<ClusterConfig.DnsResolver> used = new java.util.HashSet<>();
      dnsTasks.values().forEach(f -> used.add(f.resolver()));
      lookups.retain(used);
    }
    if (started.isEmpty()) {
      return;
    }
    List<java.util.concurrent.CompletableFuture<DnsOutcome>> first = new ArrayList<>();
    for (DnsFollow f : started) {
      first.add(f.start());
    }
    try {
      java.util.concurrent.CompletableFuture.allOf(
              first.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
          .get(FIRST_LOOKUP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // a failed lookup is an outcome (null); those still running publish when they end
    }
    for (int i = 0; i < started.size(); i++) {
      DnsFollow f = started.get(i);
      var answer = first.get(i);
      if (answer.isDone()) {
        f.done(answer.getNow(null), false);
      } else {
        f.whenDone(answer);
      }
    }
  }

  /** How long a new DNS cluster's first lookup holds the config it arrived with. */
  private static final Duration FIRST_LOOKUP_WAIT = Duration.ofSeconds(10);

  /**
   * A DNS cluster's resolved endpoints and the TTL to its next lookup with {@code respect_dns_ttl}
   * (seconds; 0 when the answer carried none).
   */
  private record DnsOutcome(List<Endpoints.Endpoint> endpoints, long ttlSeconds) {}

  /** The resolvers of DNS clusters, made with the first DNS cluster (config thread only). */
  private dev.bowline.proxy.dns.@Nullable DnsLookups dnsLookups;

  /**
   * The bootstrap's DNS resolver ({@code typed_dns_resolver_config}, ...), the default of DNS
   * clusters without their own; null: the system's.
   */
  private ClusterConfig.@Nullable DnsResolver bootstrapResolver;

  /** The periodic lookups of one DNS cluster (config thread only). */
  private final class DnsFollow {
    final String cluster;
    final ClusterConfig.Dns dns;
    int failures;
    java.util.concurrent.@Nullable ScheduledFuture<?> next;
    boolean stopped;

    DnsFollow(String cluster, ClusterConfig.Dns dns) {
      this.cluster = cluster;
      this.dns = dns;
    }

    ClusterConfig.DnsResolver resolver() {
      var r = dns.resolver();
      if (r == null) {
        r = bootstrapResolver;
      }
      return r == null ? ClusterConfig.DnsResolver.SYSTEM : r;
    }

    /**
     * Looks up every host at once: completes (on the resolver's loop) with the cluster's endpoints,
     * or with null when a lookup failed or found no address of the cluster's {@code
     * dns_lookup_family}.
     */
    java.util.concurrent.CompletableFuture<@Nullable DnsOutcome> start() {
      var lookups = dnsLookups;
      if (lookups == null) {
        lookups = new dev.bowline.proxy.dns.DnsLookups(group, options.transport());
        dnsLookups = lookups;
      }
      List<java.util.concurrent.CompletableFuture<dev.bowline.proxy.dns.DnsLookups.Answer>> all =
          new ArrayList<>();
      for (ClusterConfig.HostPort hp : dns.hosts()) {
        all.add(lookups.resolve(resolver(), dns.family(), hp.host()));
      }
      return java.util.concurrent.CompletableFuture.allOf(
              all.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
          .handle(
              (ok, failed) -> {
                List<Endpoints.Endpoint> list = new ArrayList<>();
                long ttl = Long.MAX_VALUE;
                for (int i = 0; i < all.size(); i++) {
                  ClusterConfig.HostPort hp = dns.hosts().get(i);
                  var answer = all.get(i).isCompletedExceptionally() ? null : all.get(i).join();
                  if (answer == null || answer.addresses().isEmpty()) {
                    LOG.log(
                        Level.INFO, "event=dns_failed cluster={0} host={1}", cluster, hp.host());
                    return null;
                  }
                  // LOGICAL_DNS: the first address, and its TTL (Envoy's logical_dns_cluster.cc);
                  // STRICT_DNS: every address, the smallest TTL (strict_dns_cluster.cc)
                  int n = dns.logical() ? 1 : answer.addresses().size();
                  for (int j = 0; j < n; j++) {
                    ttl = Math.min(ttl, answer.ttlSeconds().get(j));
                    // the name resolved is the host's hostname (Envoy's DNS clusters), for
                    // auto_host_rewrite
                    list.add(
                        new Endpoints.Endpoint(
                            new SocketAddr(answer.addresses().get(j).getHostAddress(), hp.port()),
                            hp.weight(),
                            0,
                            "",
                            0,
                            Map.of(),
                            hp.hostname()));
                  }
                }
                return new DnsOutcome(list, ttl == Long.MAX_VALUE ? 0 : ttl);
              });
    }

    /** Applies {@code answer} on the config thread when it completes. */
    void whenDone(java.util.concurrent.CompletableFuture<@Nullable DnsOutcome> answer) {
      answer.whenComplete(
          (o, ex) -> {
            try {
              configThread.execute(() -> done(ex == null ? o : null, true));
            } catch (java.util.concurrent.RejectedExecutionException closed) {
              stopped = true; // the proxy is closing
            }
          });
    }

    /** The lookup ended with {@code o} (null: failed): keep its addresses, schedule the next. */
    void done(@Nullable DnsOutcome o, boolean publishChange) {
      if (stopped) {
        return;
      }
      long delay;
      if (o == null) {
        failures++;
        delay =
            dns.nextLookupMillis(
                failures, java.util.concurrent.ThreadLocalRandom.current().nextDouble());
      } else {
        failures = 0;
        delay = dns.nextLookupAfterSuccessMillis(o.ttlSeconds());
        Endpoints next = new Endpoints(cluster, o.endpoints());
        if (!next.equals(resolved.get(cluster))) {
          resolved.put(cluster, next);
          if (publishChange) {
            publish(xds);
          }
        }
      }
      try {
        this.next =
            configThread.schedule(
                () -> {
                  if (!stopped) {
                    whenDone(start());
                  }
                },
                delay,
                TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        stopped = true; // the proxy is closing
      }
    }

    void stop() {
      stopped = true;
      var n = next;
      if (n != null) {
        n.cancel(false);
      }
    }
  }

  private final Map<String, Endpoints> resolved = new HashMap<>();
  private final Map<String, DnsFollow> dnsTasks = new HashMap<>();

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

  /**
   * Sends the xDS server a request of {@code typeUrl} carrying {@code error} (empty when fine) on
   * the ADS stream, again after each reconnect: how an agent reports status such as workload health
   * to its control plane. No-op without dynamic resources.
   */
  public void reportToXds(String typeUrl, String error) {
    XdsClient c = xdsClient;
    if (c != null) {
      c.report(typeUrl, error);
    }
  }

  /** The proxy's counters. */
  public Stats stats() {
    return runtime.stats();
  }

  /** Whether the first config is applied: static listeners bound and, with ADS, LDS and CDS in. */
  public boolean ready() {
    return !closed.get() && initialized();
  }

  /** The first config is in (LDS, CDS and what they named warmed) and its secrets are. */
  private boolean initialized() {
    return (!usesAds() || xds.initialized()) && secretsReady() && staticClustersInitialized();
  }

  /**
   * Whether the bootstrap's clusters with active health checks have each had their first round of
   * checks (Envoy's cluster manager initialises its static clusters before the server is ready).
   */
  private boolean staticClustersInitialized() {
    ProxySnapshot s = runtime.snapshot();
    List<ClusterConfig> checked = new ArrayList<>();
    for (ClusterConfig c : staticClusters.values()) {
      if (c.policy().healthCheck().isPresent()
          && s.endpointsOf(c).map(e -> !e.endpoints().isEmpty()).orElse(false)) {
        checked.add(c);
      }
    }
    return checked.isEmpty() || clusterStates.hcInitialized(checked);
  }

  /**
   * Whether the bootstrap configures ADS. Read from the bootstrap, not from whether the xDS client
   * exists yet: the admin answers before the client is made, and in between {@code /ready} said
   * LIVE (on a loaded machine for seconds, before any xDS answer).
   */
  private boolean usesAds() {
    return bootstrap.getDynamicResources().hasAdsConfig();
  }

  /**
   * Stops accepting, lets open connections finish (HTTP/1.1 responses carry {@code connection:
   * close}, HTTP/2 connections get GOAWAY), those of listeners already draining included, for at
   * most {@code drainTime}, then closes everything.
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

  /**
   * Closes every access-log file and opens it again by its path before the next line (log
   * rotation), as Envoy does on SIGUSR1; never blocks.
   */
  public void reopenAccessLogs() {
    var logs = accessLogs;
    if (logs != null) {
      logs.reopen();
    }
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
    sdsClients.values().forEach(SdsClient::close);
    var sg = sdsGroup;
    if (sg != null) {
      sg.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    AdminServer a = admin;
    if (a != null) {
      a.close();
    }
    listeners.close();
    configThread.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    var logs = accessLogs;
    if (logs != null) {
      logs.close(); // after the loops: every finished stream's line is queued by now
    }
    var sr = spans;
    if (sr != null) {
      sr.close(); // likewise for spans
    }
    // logged before the latch opens: the process's main waits on it and then exits at once, and a
    // line logged after that races the exit (a /quitquitquit run lost it in CI)
    LOG.log(Level.INFO, "event=proxy_stopped node={0}", bootstrap.getNode().getId());
    terminated.countDown();
  }

  /** The admin server's view of this proxy. */
  private final class View implements AdminView {
    @Override
    public String state() {
      return stateName();
    }

    @Override
    public Reply configDump(
        boolean includeEds,
        @org.jspecify.annotations.Nullable String resource,
        @org.jspecify.annotations.Nullable String mask,
        @org.jspecify.annotations.Nullable String nameRegex) {
      return ConfigDumps.render(
          bootstrap, started, xds, includeEds, listeners::heldOutNow, resource, mask, nameRegex);
    }

    @Override
    public String clusters() {
      return AdminJson.clustersText(
          runtime.snapshot(), staticClusters.keySet(), clusterStates, runtime.workers().values());
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
    public String stats(
        java.util.function.Predicate<String> filter, String type, boolean json, boolean usedOnly) {
      return json
          ? runtime.stats().json(filter, type, usedOnly)
          : runtime.stats().text(filter, type, usedOnly);
    }

    @Override
    public void resetCounters() {
      runtime.stats().resetCounters();
    }

    @Override
    public String prometheus(
        java.util.function.@org.jspecify.annotations.Nullable Predicate<String> filter,
        boolean usedOnly) {
      return runtime.stats().prometheus(filter, usedOnly);
    }

    @Override
    public String serverInfo() {
      return "{\"version\":\"bowline\",\"state\":\""
          + stateName()
          + "\",\"command_line_options\":{},\"node\":{\"id\":\""
          + bootstrap.getNode().getId().replace("\"", "\\\"")
          + "\"}}";
    }

    /**
     * Envoy's {@code ListenersHandler::handlerDrainListeners}: the connections are told to drain at
     * once; the listeners stop accepting at once, or after the drain time when {@code graceful}
     * (Envoy keeps accepting through its drain sequence: there is no other listener to take the new
     * connections), or never with {@code skipExit}. {@code inboundOnly} limits all of it to the
     * listeners of {@code traffic_direction: INBOUND}, and leaves the proxy's own drain state (its
     * {@code server.state}) alone. Off the admin's event loop: closing a listener waits for it.
     */
    @Override
    public void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {
      java.util.function.Predicate<ListenerConfig> which =
          inboundOnly ? ListenerConfig::inbound : l -> true;
      if (!inboundOnly) {
        runtime.draining().set(true);
      }
      Thread.ofPlatform()
          .name("bowline-drain-listeners")
          .daemon()
          .start(
              () -> {
                if (inboundOnly) {
                  listeners.drainConnections(which);
                }
                if (skipExit) {
                  return;
                }
                if (graceful) {
                  try {
                    Thread.sleep(options.drainTime());
                  } catch (InterruptedException e) {
                    return;
                  }
                }
                if (!closed.get()) {
                  listeners.stopAccepting(which);
                }
              });
    }

    @Override
    public void failHealthCheck(boolean fail) {
      runtime.healthCheckFailed().set(fail);
    }

    @Override
    public void reopenLogs() {
      reopenAccessLogs();
    }

    @Override
    public String clustersJson() {
      return AdminJson.clusters(
          runtime.snapshot(), staticClusters.keySet(), clusterStates, runtime.workers().values());
    }

    @Override
    public String listenersJson() {
      return AdminJson.listeners(listeners.bound());
    }

    @Override
    public String certs() {
      return AdminExtras.certs(runtime.snapshot(), secrets, java.time.Instant.now());
    }

    @Override
    public String memory() {
      return AdminExtras.memory();
    }

    @Override
    public String runtime() {
      return AdminExtras.runtime(bootstrap.getLayeredRuntime());
    }

    @Override
    public String initDump(@org.jspecify.annotations.Nullable String mask) {
      return AdminExtras.initDump(unreadyTargets(), mask);
    }

    @Override
    public void quit() {
      Thread.ofPlatform().name("bowline-quit").start(Proxy.this::close);
    }
  }
}
