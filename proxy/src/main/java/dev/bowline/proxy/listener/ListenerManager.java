package dev.bowline.proxy.listener;

import dev.bowline.proxy.config.ConnectionInfo;
import dev.bowline.proxy.config.FilterChain;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.RouteTable;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.config.TcpProxyConfig;
import dev.bowline.proxy.http.HttpConnectionManager;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.ListenerStats;
import dev.bowline.proxy.tcp.TcpProxy;
import dev.bowline.proxy.tls.ConnectionInspector;
import dev.bowline.proxy.tls.TlsSockets;
import dev.bowline.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the bound listeners in step with the config. A listener whose name and address stay gets
 * the new config for new connections; a removed or moved listener stops accepting at once and its
 * connections are closed after the drain time. Called from one config thread only.
 */
public final class ListenerManager {
  private static final System.Logger LOG = System.getLogger(ListenerManager.class.getName());

  private final EventLoopGroup group;
  private final Transport transport;
  private final ProxyRuntime runtime;
  private final Duration drainTime;
  private final Map<String, Active> active = new HashMap<>();

  /** Why each listener of the last {@link #apply} that could not bind failed, by name. */
  private final Map<String, String> bindFailures = new HashMap<>();

  /**
   * The listener versions whose bind after warming failed, by name: each stays out (not bound
   * again, not counted again) until LDS sends it again and {@link #bindable} passes it, or a new
   * version of it comes. Envoy removes a listener whose socket fails after warming ({@code
   * onListenerWarmed}: {@code removeListenerInternal}); only a later LDS response naming it adds it
   * again, whose bind then fails the update (NACK) or succeeds.
   */
  private final Map<String, ListenerConfig> heldOut = new HashMap<>();

  /**
   * {@link #heldOut}'s names, copied whenever it changes, for the admin's readers on an event loop
   * (the config dump, {@code total_listeners_active}) without the manager's lock.
   */
  private volatile java.util.Set<String> heldOutNames = java.util.Set.of();

  /**
   * The generations serving, refreshed under the lock whenever they change, so that {@link
   * #openConnectionsNow} reads them without it.
   */
  private volatile List<Generation> serving = List.of();

  // generations whose drain has begun and whose connections the drain time has not closed yet
  private final java.util.Set<Generation> draining =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Envoy's {@code listener_manager.listener_create_success}: a listener version put on the workers
   * (one per worker: new, changed, or static at start-up; bound or not), and {@code
   * listener_create_failure}: a listener whose socket could not be bound (when its LDS update is
   * checked, or when it binds after warming; Envoy counts the failed bind of {@code
   * createListenSocketFactory} and the failed listen of {@code doFinalPreWorkerListenerInit}).
   */
  private final dev.bowline.proxy.stats.Counter createSuccess;

  private final dev.bowline.proxy.stats.Counter createFailure;

  /**
   * Envoy's {@code listener_manager.listener_removed}, counted here for a listener whose bind after
   * warming failed ({@code onListenerWarmed}: {@code removeListenerInternal}); the xDS client
   * counts the removals LDS asks for, into the same counter.
   */
  private final dev.bowline.proxy.stats.Counter removed;

  private final int workers;

  /** Told the name of each listener removed because its bind after warming failed. */
  private java.util.function.Consumer<String> onRemovedOut = name -> {};

  /** The listener versions counted as created, by name (identity tells a new version). */
  private Map<String, ListenerConfig> created = Map.of();

  public ListenerManager(
      EventLoopGroup group, Transport transport, ProxyRuntime runtime, Duration drainTime) {
    this.group = group;
    this.transport = transport;
    this.runtime = runtime;
    this.drainTime = drainTime;
    int n = 0;
    for (var ignored : group) {
      n++;
    }
    this.workers = n;
    this.createSuccess = managerCounter("listener_manager.listener_create_success");
    this.createFailure = managerCounter("listener_manager.listener_create_failure");
    this.removed = managerCounter("listener_manager.listener_removed");
  }

  /**
   * Tells {@code hook} the name of each listener removed because its bind after warming failed (the
   * xDS stats then count LDS's later removal or re-adding of it as Envoy does). Set before the
   * first {@link #apply}.
   */
  public void onRemovedOut(java.util.function.Consumer<String> hook) {
    this.onRemovedOut = hook;
  }

  private dev.bowline.proxy.stats.Counter managerCounter(String name) {
    return runtime.stats().counter(name, "envoy_" + name.replace('.', '_'), Map.of());
  }

  /** A bound listener, as reported by the admin server. */
  public record Bound(String name, InetSocketAddress address) {}

  /**
   * One version of a listener's config with the connections accepted under it. A connection reads
   * the generation once, so it never pairs one version's config with another's drain.
   */
  private static final class Generation {
    final ListenerConfig config;
    final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    volatile boolean draining;
    // the RDS tables this version named, pinned once it is about to be replaced
    volatile @org.jspecify.annotations.Nullable Map<String, RouteTable> pinned;

    /**
     * Pins {@code routes} on this generation's connections, and on any that joins later (the
     * connection adds itself, then reads the field; this writes the field, then iterates).
     */
    void pin(Map<String, RouteTable> routes) {
      pinned = routes;
      for (Channel c : connections) {
        c.attr(ProxyRuntime.LISTENER_ROUTES).set(routes);
      }
    }

    Generation(ListenerConfig config) {
      this.config = config;
    }

    /**
     * Adds a connection accepted under this generation; false if the drain began meanwhile (the
     * drain either sees the connection in the group or the connection sees the flag: both sides
     * write, then read).
     */
    boolean add(Channel ch) {
      connections.add(ch);
      return !draining;
    }
  }

  private static final class Active {
    volatile Generation current;
    // null for a bind_to_port: false listener, reached only by a use_original_dst hand-off
    final @org.jspecify.annotations.Nullable Channel server;
    final ListenerStats stats;

    Active(
        ListenerConfig config,
        @org.jspecify.annotations.Nullable Channel server,
        ListenerStats stats) {
      this.current = new Generation(config);
      this.server = server;
      this.stats = stats;
    }

    ListenerConfig config() {
      return current.config;
    }

    /**
     * The generation a new connection joins: the current one. A connection accepted just as the
     * config changed moves on to the new generation rather than join a drain whose timer already
     * runs; if the listener itself is going away it drains with it.
     */
    Generation join(Channel ch) {
      while (true) {
        Generation g = current;
        if (g.add(ch)) {
          pinnedOn(g, ch);
          return g;
        }
        if (current == g) {
          pinnedOn(g, ch);
          ch.attr(ProxyRuntime.CONNECTION_DRAINING).set(Boolean.TRUE);
          return g;
        }
        g.connections.remove(ch);
      }
    }

    private static void pinnedOn(Generation g, Channel ch) {
      Map<String, RouteTable> p = g.pinned;
      if (p != null) {
        ch.attr(ProxyRuntime.LISTENER_ROUTES).set(p);
      }
    }
  }

  /**
   * Before {@code next} is published: pins, on the connections of every listener {@code next}
   * replaces or removes, the RDS route tables that listener named in {@code current}, so that its
   * draining connections keep routing by them when {@code next} no longer has them (Envoy keeps a
   * draining listener's route configuration alive with the listener). Call {@link #apply} next.
   */
  public synchronized void pinReplaced(ProxySnapshot current, ProxySnapshot next) {
    for (var e : active.entrySet()) {
      Generation g = e.getValue().current;
      if (next.listeners().get(e.getKey()) == g.config || g.pinned != null) {
        continue;
      }
      Map<String, RouteTable> routes = new HashMap<>();
      for (String name : rdsNames(g.config)) {
        RouteTable t = current.routes().get(name);
        if (t != null) {
          routes.put(name, t);
        }
      }
      g.pin(Map.copyOf(routes));
    }
  }

  private static java.util.Set<String> rdsNames(ListenerConfig l) {
    java.util.Set<String> names = new java.util.HashSet<>();
    java.util.stream.Stream.concat(l.filterChains().stream(), l.defaultChain().stream())
        .forEach(
            c -> {
              if (c.filter() instanceof HttpConnectionManagerConfig h
                  && h.routes() instanceof HttpConnectionManagerConfig.RdsRoutes r) {
                names.add(r.name());
              }
            });
    return names;
  }

  /** Brings the bound listeners in line with {@code snapshot}; waits for binds to finish. */
  public synchronized void apply(ProxySnapshot snapshot) {
    var it = active.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      ListenerConfig next = snapshot.listeners().get(e.getKey());
      if (next == null
          || next.bindToPort() != e.getValue().config().bindToPort()
          || !next.address().equals(e.getValue().config().address())) {
        it.remove();
        drain(e.getValue());
      } else if (next != e.getValue().config()) {
        // Changed in place: new connections take the new config, the old ones drain.
        Active a = e.getValue();
        Generation old = a.current;
        a.current = new Generation(next);
        drainConnections(old);
      }
    }
    bindFailures.clear();
    heldOut.keySet().retainAll(snapshot.listeners().keySet());
    heldOutChanged();
    for (ListenerConfig l : snapshot.listeners().values()) {
      if (l.bindToPort() && !active.containsKey(l.name()) && heldOut.get(l.name()) != l) {
        bind(l);
      } else if (!l.bindToPort() && !active.containsKey(l.name())) {
        // bind_to_port: false: no socket, but a listener a use_original_dst hand-off can find
        active.put(l.name(), new Active(l, null, runtime.stats().listener(l.statPrefix())));
      }
    }
    Map<String, ListenerConfig> now = new HashMap<>();
    for (ListenerConfig l : snapshot.listeners().values()) {
      if (!bindFailures.containsKey(l.name()) && heldOut.get(l.name()) != l) {
        now.put(l.name(), l);
        if (created.get(l.name()) != l) {
          createSuccess.adder().add(workers);
        }
      }
    }
    created = now;
    serving = active.values().stream().map(a -> a.current).toList();
    byAddress = addresses();
  }

  /**
   * The listeners a {@code use_original_dst} hand-off can reach, by address (a bound one's port 0
   * resolved to the port it got), as Envoy's {@code tcp_listener_map_by_address_}; empty once the
   * listeners stopped accepting (Envoy returns no stopped listener). Read on the event loops.
   */
  private volatile Map<InetSocketAddress, Active> byAddress = Map.of();

  private Map<InetSocketAddress, Active> addresses() {
    Map<InetSocketAddress, Active> m = new HashMap<>();
    for (Active a : active.values()) {
      InetSocketAddress at =
          a.server != null && a.server.localAddress() instanceof InetSocketAddress bound
              ? bound
              : a.config().address().toInet();
      m.putIfAbsent(at, a);
    }
    return Map.copyOf(m);
  }

  /**
   * The listener a connection whose original destination is {@code dst} is handed to: the one bound
   * to that exact address, else the one on the wildcard address of its family and port ({@code
   * 0.0.0.0} or {@code ::}), as Envoy's {@code getBalancedHandlerByAddress}; null if none.
   */
  private @org.jspecify.annotations.Nullable Active handOffTarget(InetSocketAddress dst) {
    Map<InetSocketAddress, Active> m = byAddress;
    Active a = m.get(dst);
    if (a != null) {
      return a;
    }
    return m.get(
        new InetSocketAddress(
            dst.getAddress() instanceof java.net.Inet4Address ? ANY_V4 : ANY_V6, dst.getPort()));
  }

  private static final java.net.InetAddress ANY_V4 = java.net.InetAddress.ofLiteral("0.0.0.0");
  private static final java.net.InetAddress ANY_V6 = java.net.InetAddress.ofLiteral("::");

  /**
   * Envoy's error for a listener whose address another listener already has ({@code
   * ListenerManagerImpl::setNewOrDrainingSocketFactory}): the same words for an LDS listener (in
   * the NACK) and a bootstrap one (the start-up error).
   */
  public static String duplicateAddress(ListenerConfig l) {
    return "error adding listener: '"
        + l.name()
        + "' has duplicate address '"
        + l.address()
        + "' as existing listener, to check if the listener has duplicated addresses with other"
        + " listeners or 'enable_reuse_port' is set to 'false' for the listener";
  }

  /**
   * Whether a listener's address may not be another's: Envoy's {@code
   * ListenerImpl::hasDuplicatedAddress} exempts a bound port 0 only.
   */
  public static boolean claimsAddress(ListenerConfig l) {
    return !l.bindToPort() || l.address().port() != 0;
  }

  /**
   * Why listener {@code name} could not bind in the last {@link #apply} ({@code "cannot bind
   * 'address': error"}), if it could not. A static listener's failure stops the start-up, as
   * Envoy's bootstrap fails on a listen socket it cannot bind; a dynamic one's leaves the others
   * serving.
   */
  public synchronized java.util.Optional<String> bindFailure(String name) {
    return java.util.Optional.ofNullable(bindFailures.get(name));
  }

  /**
   * Why {@code l} could not be bound now ({@code "cannot bind 'address': error"}), or empty: its
   * address is tried with a socket that binds but does not listen (SO_REUSEADDR, as the listener's
   * own, so it conflicts exactly where the listener's bind would) and is released at once. Envoy
   * binds a new listener's socket while it applies the LDS update, which fails there; here the
   * listener binds when it is published (after warming), so this check runs first, on the xDS
   * client's thread (never an event loop). An address one of this manager's listeners holds passes:
   * that listener is being replaced or moved, and a listener taking a removed one's address is
   * bound after the removal, as Envoy removes before it adds. A port taken between this check and
   * the bind is still only logged ({@code listener_bind_failed}).
   */
  public synchronized java.util.Optional<String> bindable(ListenerConfig l) {
    var failure = probe(l);
    if (failure.isEmpty()) {
      heldOut.remove(l.name()); // LDS sent it again and it can bind: the next apply binds it
      heldOutChanged();
    }
    return failure;
  }

  /**
   * Whether listener {@code name}'s bind after warming failed and it is out until LDS sends it
   * again: an LDS response naming it unchanged must then check it as a new one ({@link #bindable}).
   */
  public synchronized boolean heldOut(String name) {
    return heldOut.containsKey(name);
  }

  /**
   * {@link #heldOut} without the lock: Envoy removed such a listener, so its config dump no longer
   * shows it and {@code total_listeners_active} no longer counts it. Any thread.
   */
  public boolean heldOutNow(String name) {
    return heldOutNames.contains(name);
  }

  /** How many listeners {@link #heldOutNow} holds out. Any thread. */
  public int heldOutCountNow() {
    return heldOutNames.size();
  }

  private void heldOutChanged() {
    heldOutNames = java.util.Set.copyOf(heldOut.keySet());
  }

  private java.util.Optional<String> probe(ListenerConfig l) {
    if (!l.bindToPort() || l.address().port() == 0) {
      return java.util.Optional.empty();
    }
    for (Active a : active.values()) {
      if (a.server != null && a.config().address().equals(l.address())) {
        return java.util.Optional.empty();
      }
    }
    try (java.net.Socket probe = new java.net.Socket()) {
      probe.setReuseAddress(true);
      probe.bind(l.address().toInet());
      return java.util.Optional.empty();
    } catch (java.io.IOException e) {
      createFailure.inc();
      return java.util.Optional.of("cannot bind '" + l.address() + "': " + e.getMessage());
    }
  }

  private void bind(ListenerConfig l) {
    ListenerStats stats = runtime.stats().listener(l.statPrefix());
    Active[] holder = new Active[1];
    ChannelFuture f =
        new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannelClass())
            .option(ChannelOption.SO_REUSEADDR, true)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    Active a = holder[0];
                    if (a == null) {
                      ch.close();
                      return;
                    }
                    accepted(ch, a);
                  }
                })
            .bind(l.address().toInet());
    f.awaitUninterruptibly();
    if (!f.isSuccess()) {
      LOG.log(
          Level.WARNING,
          "event=listener_bind_failed listener={0} address={1} error=\"{2}\"",
          l.name(),
          l.address(),
          f.cause().getMessage());
      bindFailures.put(l.name(), "cannot bind '" + l.address() + "': " + f.cause().getMessage());
      heldOut.put(l.name(), l);
      heldOutChanged();
      onRemovedOut.accept(l.name());
      removed.inc(); // Envoy removes the listener whose socket failed after warming
      createFailure.inc();
      return;
    }
    if (heldOut.remove(l.name()) != null) {
      heldOutChanged();
    }
    holder[0] = new Active(l, f.channel(), stats);
    active.put(l.name(), holder[0]);
    LOG.log(Level.DEBUG, "event=listener_added listener={0} address={1}", l.name(), l.address());
  }

  /**
   * A connection {@code a} accepted: its listener filters that act before the chain is chosen
   * ({@code original_dst}, then the {@code use_original_dst} hand-off to the listener of the
   * restored destination, as Envoy's {@code ActiveTcpSocket::newConnection}), then the listener
   * that keeps it counts it and picks its chain. A listener without {@code original_dst} pays one
   * field read.
   */
  private void accepted(Channel ch, Active a) {
    ListenerConfig first = a.config();
    if (first.originalDst()) {
      InetSocketAddress restored = OriginalDst.read(ch);
      if (restored != null) {
        ch.attr(ConnectionInfo.RESTORED_LOCAL).set(restored);
        if (first.useOriginalDst()) {
          Active target = handOffTarget(restored);
          if (target != null) {
            a = target; // the target runs its own inspectors and counts the connection
          }
        }
      }
    }
    ListenerStats stats = a.stats;
    // downstream_cx_total/_active, and _destroy/_length_ms as it ends
    stats.opened();
    long start = System.nanoTime();
    ch.closeFuture().addListener(f -> stats.closed(start));
    connection(ch, a.join(ch).config, stats, start);
  }

  private void connection(Channel ch, ListenerConfig config, ListenerStats stats, long start) {
    InetSocketAddress local = (InetSocketAddress) ConnectionInfo.localAddress(ch);
    InetSocketAddress remote = (InetSocketAddress) ch.remoteAddress();
    String destIp = local.getAddress().getHostAddress();
    String sourceIp = remote.getAddress().getHostAddress();
    if (config.needsInspection()) {
      // tls_inspector / http_inspector: the chain depends on the first bytes
      ch.pipeline()
          .addLast(
              new ConnectionInspector(
                  config.inspection(),
                  found ->
                      install(
                          ch,
                          config,
                          stats,
                          start,
                          new ConnectionInfo(
                              destIp,
                              local.getPort(),
                              sourceIp,
                              remote.getPort(),
                              found.transportProtocol(),
                              found.serverName(),
                              found.protocols())),
                  () -> {
                    stats.noFilterChainMatch().inc();
                    ListenerLogInfo.notConnected(ch, config, start);
                  },
                  () -> ListenerLogInfo.notConnected(ch, config, start)));
      return;
    }
    install(
        ch,
        config,
        stats,
        start,
        ConnectionInfo.plain(destIp, local.getPort(), sourceIp, remote.getPort()));
  }

  private void install(
      Channel ch, ListenerConfig config, ListenerStats stats, long start, ConnectionInfo info) {
    FilterChain chain = config.select(info).orElse(null);
    if (chain == null) {
      stats.noFilterChainMatch().inc();
      // the listener's access_log (flag NR), as Envoy's ActiveStreamListenerBase::newConnection
      ListenerLogInfo.noChain(ch, config, start, info.serverName());
      ch.close();
      return;
    }
    ch.attr(ConnectionInfo.KEY).set(info);
    if (config.modifyOnlyDrain()) {
      ch.attr(ProxyRuntime.MODIFY_ONLY_DRAIN).set(Boolean.TRUE);
    }
    int limit = config.bufferLimitBytes(); // per_connection_buffer_limit_bytes
    ch.attr(HttpConnectionManager.BUFFER_LIMIT).set(limit);
    if (limit > 0) {
      ch.config()
          .setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(limit / 2, limit));
    }
    if (chain.tls().isPresent()) {
      // the chain's transport socket: TLS under the network filter
      if (!TlsSockets.install(ch, chain.tls().get(), runtime, config.statPrefix())) {
        ch.close();
        return;
      }
    }
    for (var rf : chain.readFilters()) {
      rf.install(ch, runtime);
    }
    // the listener's access_log: a line as the connection ends (none configured: nothing to do)
    ListenerLogInfo.atEnd(ch, config, start, info.serverName());
    switch (chain.filter()) {
      case HttpConnectionManagerConfig hcm -> HttpConnectionManager.install(ch, hcm, runtime);
      case TcpProxyConfig tcp -> TcpProxy.install(ch, tcp, runtime);
    }
  }

  private void drain(Active a) {
    // closed before apply binds: a listener of the same snapshot may take this address (Envoy
    // removes before it adds, and the new listener takes the draining one's socket)
    if (a.server != null) {
      a.server.close().awaitUninterruptibly();
    }
    drainConnections(a.current);
  }

  /**
   * Starts the drain of {@code g}'s connections (HTTP/1.1 answers {@code connection: close}, HTTP/2
   * says GOAWAY) and closes whatever is still open when the drain time ends, as Envoy closes the
   * connections of a listener it drained: keep-alive connections, streams still running, requests
   * or header blocks half sent, TCP proxy connections.
   */
  private void drainConnections(Generation g) {
    g.draining = true;
    ChannelGroup connections = g.connections;
    LOG.log(
        Level.DEBUG,
        "event=listener_draining listener={0} connections={1}",
        g.config.name(),
        connections.size());
    for (Channel c : connections) {
      c.attr(ProxyRuntime.CONNECTION_DRAINING).set(Boolean.TRUE);
      HttpConnectionManager.drain(c);
    }
    if (draining.add(g)) {
      group.schedule(
          () -> {
            draining.remove(g);
            closeNow(g, "drain_time");
          },
          drainTime.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Closes {@code g}'s connections at once, past their handlers: a closing HTTP/2 codec would wait
   * for its streams again, TLS for the peer to read its close_notify.
   */
  private static void closeNow(Generation g, String why) {
    int n = 0;
    for (Channel c : g.connections) {
      n++;
      try {
        c.eventLoop()
            .execute(
                () -> {
                  HttpConnectionManager.closingFromOutside(c); // counted as Envoy counts it
                  c.unsafe().close(c.unsafe().voidPromise());
                });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // the loop is shutting down, which closes its channels
      }
    }
    if (n > 0) {
      LOG.log(
          Level.DEBUG,
          "event=listener_connections_closed listener={0} connections={1} reason={2}",
          g.config.name(),
          n,
          why);
    }
  }

  /** The bound listeners. */
  public synchronized List<Bound> bound() {
    return active.values().stream()
        .filter(a -> a.server != null)
        .map(a -> new Bound(a.config().name(), (InetSocketAddress) a.server.localAddress()))
        .sorted(java.util.Comparator.comparing(Bound::name))
        .toList();
  }

  /** The bound address of listener {@code name}, if bound. */
  public synchronized java.util.Optional<SocketAddr> boundAddress(String name) {
    Active a = active.get(name);
    if (a == null || a.server == null) {
      return java.util.Optional.empty();
    }
    InetSocketAddress isa = (InetSocketAddress) a.server.localAddress();
    return java.util.Optional.of(new SocketAddr(isa.getAddress().getHostAddress(), isa.getPort()));
  }

  /**
   * Stops accepting on every listener and drains their connections ({@code /drain_listeners},
   * SIGTERM): existing connections go on (HTTP/1.1 responses say {@code connection: close}, HTTP/2
   * connections get GOAWAY) until the drain time ends, which closes what is left.
   */
  public synchronized void stopAccepting() {
    stopAccepting(l -> true);
  }

  /** {@link #stopAccepting()} of the listeners {@code which} takes. */
  public synchronized void stopAccepting(java.util.function.Predicate<ListenerConfig> which) {
    Map<InetSocketAddress, Active> reachable = new HashMap<>(byAddress);
    for (Active a : active.values()) {
      if (which.test(a.config())) {
        if (a.server != null) {
          a.server.close().awaitUninterruptibly();
        }
        drainConnections(a.current);
        reachable.values().removeIf(r -> r == a); // a stopped listener takes no hand-off
      }
    }
    byAddress = Map.copyOf(reachable);
  }

  /**
   * Tells the connections of the listeners {@code which} takes to drain ({@code connection: close},
   * GOAWAY), their listeners still accepting: the start of {@code /drain_listeners
   * ?inboundonly&graceful}. The drain time closes what is left of them.
   */
  public synchronized void drainConnections(java.util.function.Predicate<ListenerConfig> which) {
    for (Active a : active.values()) {
      if (which.test(a.config())) {
        drainConnections(a.current);
      }
    }
  }

  /** Listener versions draining now (removed or replaced, or all after a drain): Envoy's gauge. */
  public int drainingCount() {
    return draining.size();
  }

  /**
   * {@link #openConnections} without the manager's lock: the admin reads it on an event loop, and
   * {@link #apply} holds the lock while it waits for binds that run on the event loops.
   */
  public int openConnectionsNow() {
    var seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Generation, Boolean>());
    int n = 0;
    for (Generation g : serving) {
      if (seen.add(g)) {
        n += g.connections.size();
      }
    }
    for (Generation g : draining) {
      if (seen.add(g)) {
        n += g.connections.size();
      }
    }
    return n;
  }

  /** Open downstream connections across all listeners, draining ones included. */
  public synchronized int openConnections() {
    int n = 0;
    for (Active a : active.values()) {
      if (!draining.contains(a.current)) {
        n += a.current.connections.size();
      }
    }
    for (Generation g : draining) {
      n += g.connections.size();
    }
    return n;
  }

  /** Closes every listener and connection, draining ones included. */
  public synchronized void close() {
    byAddress = Map.of();
    for (Active a : active.values()) {
      if (a.server != null) {
        a.server.close();
      }
      closeNow(a.current, "proxy_closed");
    }
    for (Generation g : draining) {
      closeNow(g, "proxy_closed");
    }
    draining.clear();
    active.clear();
    serving = List.of();
  }
}
