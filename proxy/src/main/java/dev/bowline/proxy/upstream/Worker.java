package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.stats.ClusterStats;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.tls.TlsContexts;
import dev.bowline.proxy.tls.TlsSockets;
import dev.bowline.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Everything upstream that belongs to one event loop: per-cluster hosts and load-balancer state,
 * pooled HTTP/1.1 connections, HTTP/2 connection pools. Every method must be called on {@link
 * #loop()}.
 */
public final class Worker {
  private final EventLoop loop;
  private final Transport transport;
  private final RandomGenerator random;
  private final Stats stats;
  private final Map<String, ClusterHosts> clusters = new HashMap<>();

  // the admin's view of clusters from other threads: a copy, made when the map changes
  private volatile Map<String, ClusterHosts> published = Map.of();
  private final ClusterStates states;
  private final TlsContexts tlsContexts;

  /** The first handler of every upstream HTTP/2 stream's pipeline (stateless, shared). */
  final io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec h2StreamCodec =
      new dev.bowline.proxy.transport.Http2ClientStreamCodec();

  /**
   * ORIGINAL_DST destinations on this loop, per cluster: address to whether it was used since the
   * last sweep. Envoy's host map and {@code used} flag: every {@code cleanup_interval} a sweep
   * drops the hosts not used since the one before and clears the flag of the rest.
   */
  private final Map<String, Map<SocketAddr, boolean[]>> originalDst = new HashMap<>();

  private final Map<String, Endpoints> originalDstEndpoints = new HashMap<>();

  /**
   * A worker with its own cluster-wide state (circuit breakers and outlier detection then count
   * this loop only): for tests and single-loop proxies.
   */
  public Worker(EventLoop loop, Transport transport, RandomGenerator random, Stats stats) {
    this(
        loop,
        transport,
        random,
        stats,
        new ClusterStates(
            stats,
            System::nanoTime,
            loop,
            transport.socketChannelClass(),
            new java.util.SplittableRandom()));
  }

  /** A worker sharing {@code states} with the proxy's other workers, without TLS secrets. */
  public Worker(
      EventLoop loop,
      Transport transport,
      RandomGenerator random,
      Stats stats,
      ClusterStates states) {
    this(
        loop,
        transport,
        random,
        stats,
        states,
        new TlsContexts(new dev.bowline.proxy.tls.SecretStore()));
  }

  /** A worker with its own cluster-wide state whose TLS clusters use {@code tlsContexts}. */
  public Worker(
      EventLoop loop,
      Transport transport,
      RandomGenerator random,
      Stats stats,
      TlsContexts tlsContexts) {
    this(
        loop,
        transport,
        random,
        stats,
        new ClusterStates(
            stats,
            System::nanoTime,
            loop,
            transport.socketChannelClass(),
            new java.util.SplittableRandom()),
        tlsContexts);
  }

  /**
   * A worker sharing {@code states} with the proxy's other workers, whose TLS clusters take their
   * SSL contexts from {@code tlsContexts}.
   */
  public Worker(
      EventLoop loop,
      Transport transport,
      RandomGenerator random,
      Stats stats,
      ClusterStates states,
      TlsContexts tlsContexts) {
    this.tlsContexts = tlsContexts;
    states.useTls(tlsContexts); // the same for every worker of a proxy
    this.loop = loop;
    this.transport = transport;
    this.random = random;
    this.stats = stats;
    this.states = states;
  }

  public EventLoop loop() {
    return loop;
  }

  public RandomGenerator random() {
    return random;
  }

  public Stats stats() {
    return stats;
  }

  /** What {@link #acquire} hands back. */
  public interface AcquireCallback {
    void acquired(Upstream upstream);

    void failed(String reason);

    /**
     * A circuit breaker refused the request ({@code max_requests} or {@code max_pending_requests}):
     * Envoy answers 503 with {@code x-envoy-overloaded: true} and the UO flag.
     */
    default void overflowed() {
      failed("overflow");
    }

    /** Whether the request gave up while it waited for a connection (it then gets none). */
    default boolean cancelled() {
      return false;
    }

    /**
     * The balancer chose {@code host} for this request (before connecting, after the connection's
     * server name is taken from the request); {@code hostname} is its hostname, empty when none.
     */
    default void picked(SocketAddr host, String hostname) {}

    /** A retry host predicate: whether to pick again instead of {@code host}. */
    default boolean rejectHost(SocketAddr host) {
      return false;
    }

    /** How many more picks a rejected host gets ({@code host_selection_retry_max_attempts}). */
    default int hostSelectionAttempts() {
      return 0;
    }

    /**
     * The request waits for a connection (Envoy's pending request: counted against {@code
     * max_pending_requests} and in {@code upstream_rq_pending_active}); {@code wait} gives the wait
     * up if the request goes away first. Called before the callback that ends the wait.
     */
    default void waiting(Waiting wait) {}
  }

  /** A request's wait for an upstream connection. */
  public interface Waiting {
    /**
     * Gives the wait up (the request went away): it leaves the pool at once, counted as {@code
     * upstream_rq_cancelled}, and no callback follows. Does nothing once the wait has ended.
     */
    void cancel();
  }

  /**
   * A request waiting for a connection of a host: in a queue (the cluster is at {@code
   * max_connections}, or an HTTP/2 connection has no stream to spare) or for the connection opened
   * for it. From its creation until its wait ends it counts as pending: {@code
   * upstream_rq_pending_total}, the cluster's {@code max_pending_requests} and the {@code
   * upstream_rq_pending_active} gauge. Event loop only.
   */
  static final class Pending implements Waiting {
    final ResponseListener listener;
    final AcquireCallback cb;
    private final ClusterState state;

    /** The queue it waits in; null while it waits for a connection of its own. */
    java.util.@Nullable Collection<Pending> queue;

    private boolean over;

    Pending(ResponseListener listener, AcquireCallback cb, ClusterState state) {
      this.listener = listener;
      this.cb = cb;
      this.state = state;
      state.pending.incrementAndGet();
      state.stats.upstreamRqPendingTotal().inc();
    }

    /**
     * Ends the wait, to attach the request or fail it: false if it gave up meanwhile (its callback
     * says it is {@linkplain AcquireCallback#cancelled() cancelled}; counted as such).
     */
    boolean end() {
      if (over) {
        return false;
      }
      over = true;
      state.pending.decrementAndGet();
      if (cb.cancelled()) {
        state.stats.upstreamRqCancelled().inc();
        return false;
      }
      return true;
    }

    /** Whether the request gave up waiting; its wait is then over. */
    boolean gaveUp() {
      if (over) {
        return true;
      }
      if (cb.cancelled()) {
        end();
        return true;
      }
      return false;
    }

    @Override
    public void cancel() {
      if (over) {
        return;
      }
      over = true;
      state.pending.decrementAndGet();
      state.stats.upstreamRqCancelled().inc(); // Envoy's onPendingStreamCancel
      var q = queue;
      if (q != null) {
        queue = null;
        q.remove(this);
      }
    }
  }

  /** The cluster's state on this loop, refreshed if the cluster or its endpoints changed. */
  ClusterHosts hosts(ClusterConfig cluster, Endpoints endpoints) {
    ClusterHosts h = clusters.get(cluster.name());
    if (h == null
        || h.config != cluster
        || h.endpoints != endpoints
        || (h.keepsRemoved && h.membership != h.state.membershipVersion)) {
      h =
          new ClusterHosts(
              cluster, endpoints, h, stats.cluster(cluster.statName()), states.of(cluster));
      if (cluster.closeOnHealthFailure()) {
        h.state.workers.add(this);
      }
      clusters.put(cluster.name(), h);
      published = Map.copyOf(clusters);
    }
    return h;
  }

  /**
   * The hosts of ORIGINAL_DST {@code cluster} on this loop, {@code target} among them: every
   * destination used lately, so each keeps its pooled connections. The same object while no
   * destination is added or dropped.
   */
  public Endpoints originalDst(ClusterConfig cluster, SocketAddr target) {
    Map<SocketAddr, boolean[]> seen = originalDst.get(cluster.name());
    if (seen == null) {
      seen = new java.util.LinkedHashMap<>();
      originalDst.put(cluster.name(), seen);
      scheduleSweep(cluster.name(), seen, cleanupNanos(cluster));
    }
    boolean[] used = seen.get(target);
    Endpoints e = originalDstEndpoints.get(cluster.name());
    if (used != null && e != null) {
      used[0] = true;
      return e;
    }
    seen.put(target, new boolean[] {true}); // a new host counts as used until the next sweep
    e = originalDstEndpoints(cluster.name(), seen);
    originalDstEndpoints.put(cluster.name(), e);
    return e;
  }

  private static Endpoints originalDstEndpoints(String cluster, Map<SocketAddr, boolean[]> seen) {
    return new Endpoints(
        cluster, seen.keySet().stream().map(a -> new Endpoints.Endpoint(a, 1)).toList());
  }

  private static long cleanupNanos(ClusterConfig cluster) {
    return cluster.discovery() instanceof ClusterConfig.OriginalDst o
        ? o.cleanupInterval().toNanos()
        : ClusterConfig.OriginalDst.DEFAULT_CLEANUP.toNanos();
  }

  private void scheduleSweep(String cluster, Map<SocketAddr, boolean[]> seen, long nanos) {
    loop.schedule(() -> sweep(cluster, seen), nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * Envoy's {@code OriginalDstCluster::cleanup}: the hosts of {@code cluster} not used since the
   * last sweep are dropped (their idle connections closed), the others marked unused; then the next
   * sweep is scheduled by the cluster's current {@code cleanup_interval}. Stops when the cluster is
   * gone from this loop or was replaced by another kind.
   */
  private void sweep(String cluster, Map<SocketAddr, boolean[]> seen) {
    ClusterHosts h = clusters.get(cluster);
    if (originalDst.get(cluster) != seen) {
      return; // forgotten (retain) or started again
    }
    if (h != null && !(h.config.discovery() instanceof ClusterConfig.OriginalDst)) {
      originalDst.remove(cluster); // the name is another kind of cluster now
      originalDstEndpoints.remove(cluster);
      return;
    }
    boolean dropped = seen.values().removeIf(u -> !u[0]);
    for (boolean[] u : seen.values()) {
      u[0] = false;
    }
    if (dropped) {
      Endpoints e = originalDstEndpoints(cluster, seen);
      originalDstEndpoints.put(cluster, e);
      if (h != null) {
        hosts(h.config, e); // closes the idle connections of the hosts dropped
      }
      if (seen.isEmpty()) { // nothing left to sweep: the next destination starts again
        originalDst.remove(cluster);
        originalDstEndpoints.remove(cluster);
        return;
      }
    }
    scheduleSweep(
        cluster,
        seen,
        h != null ? cleanupNanos(h.config) : ClusterConfig.OriginalDst.DEFAULT_CLEANUP.toNanos());
  }

  /** The cluster's stats. */
  public ClusterStats clusterStats(ClusterConfig cluster) {
    ClusterHosts h = clusters.get(cluster.name());
    return h != null ? h.stats : stats.cluster(cluster.statName());
  }

  /**
   * Picks a host of {@code cluster} by its load balancer and gets an HTTP/1.1 connection to it,
   * pooled or new. Returns false without calling back when the cluster has no host.
   */
  public boolean acquire(
      ClusterConfig cluster, Endpoints endpoints, ResponseListener listener, AcquireCallback cb) {
    return acquire(cluster, endpoints, listener, cb, false);
  }

  /**
   * As {@link #acquire(ClusterConfig, Endpoints, ResponseListener, AcquireCallback)}; {@code
   * dedicated} asks for a new HTTP/1.1 connection that never returns to the pool (upgrades).
   */
  public boolean acquire(
      ClusterConfig cluster,
      Endpoints endpoints,
      ResponseListener listener,
      AcquireCallback cb,
      boolean dedicated) {
    return acquire(cluster, endpoints, null, listener, cb, dedicated);
  }

  /**
   * As {@link #acquire(ClusterConfig, Endpoints, ResponseListener, AcquireCallback, boolean)}; a
   * non-null {@code pinned} is the host to use instead of the balancer's pick (ORIGINAL_DST).
   */
  public boolean acquire(
      ClusterConfig cluster,
      Endpoints endpoints,
      @Nullable SocketAddr pinned,
      ResponseListener listener,
      AcquireCallback cb,
      boolean dedicated) {
    return acquire(cluster, endpoints, pinned, null, listener, cb, dedicated);
  }

  /**
   * As {@link #acquire(ClusterConfig, Endpoints, SocketAddr, ResponseListener, AcquireCallback,
   * boolean)}; {@code hash} is the request's hash from the route's {@code hash_policy} (see {@link
   * dev.bowline.proxy.lb.RequestHash}), null for none. RING_HASH and MAGLEV clusters pick by it (at
   * random without one); other policies ignore it.
   *
   * <p>Circuit breakers apply here, cluster-wide across loops: past {@code max_requests}, or past
   * {@code max_connections} with {@code max_pending_requests} already waiting, {@link
   * AcquireCallback#overflowed} is called (counted as {@code upstream_rq_pending_overflow}); past
   * {@code max_connections} alone the request waits for a connection of its host to come free
   * ({@code upstream_cx_overflow}).
   */
  public boolean acquire(
      ClusterConfig cluster,
      Endpoints endpoints,
      @Nullable SocketAddr pinned,
      @Nullable Long hash,
      ResponseListener listener,
      AcquireCallback cb,
      boolean dedicated) {
    ClusterHosts ch = hosts(cluster, endpoints);
    var limits = cluster.policy().limits();
    if (ch.state.requests.get() >= limits.maxRequests()) {
      ch.stats.upstreamRqPendingOverflow().inc();
      cb.overflowed();
      return true;
    }
    Host first =
        pinned != null
            ? ch.find(pinned)
            : hash != null ? ch.pick(random, true, hash) : ch.pick(random);
    if (first == null) {
      return false;
    }
    for (int i = 0; pinned == null && i < cb.hostSelectionAttempts(); i++) {
      if (!cb.rejectHost(first.address)) {
        break;
      }
      // with ejections or failed health checks the balancer may have none left: keep the last
      Host again = hash != null ? ch.pick(random, true, hash) : ch.pick(random);
      if (again == null) {
        break;
      }
      first = again;
    }
    boolean h2 =
        cluster.http2() || (cluster.policy().downstreamProtocol() && listener.downstreamHttp2());
    // an ALPN override (the stream's filter state) gets connections of its own, as Envoy keys
    // its pools on the transport socket options
    Host host = first.forAlpn(listener.upstreamAlpn(h2));
    var auto = cluster.autoSni();
    if (auto.enabled() && host.tls != null) { // upstream_http_protocol_options
      String name = listener.upstreamServerName(auto.overrideHeader());
      if (name != null) {
        host = host.forServerName(name, auto.sanValidation());
      }
    }
    // after the server name: Envoy takes it from the request before auto_host_rewrite
    cb.picked(first.address, first.hostname);
    if (h2 && !dedicated) {
      acquireH2(host, ch, listener, cb);
      return true;
    }
    Channel pooled;
    while (!dedicated && (pooled = host.idle.pollLast()) != null) {
      if (pooled.isActive()) {
        UpstreamConnection uc = UpstreamConnection.of(pooled);
        uc.bind(listener);
        cb.acquired(uc);
        if (ch.preconnectRatio > 1) {
          preconnect(host, ch);
        }
        return true;
      }
    }
    // No idle connection: the request waits for one as pending (Envoy's newStreamImpl), which the
    // cluster's max_pending_requests bounds, for HTTP/1.1 as for HTTP/2
    ClusterState st = ch.state;
    if (st.pending.get() >= limits.maxPendingRequests()) {
      ch.stats.upstreamRqPendingOverflow().inc();
      cb.overflowed();
      return true;
    }
    // As Envoy: a loop with no connection to this host opens one even past max_connections
    // (other loops hold them all), or what waits here could never be served.
    if (st.connections.get() >= limits.maxConnections() && host.connections > 0) {
      ch.stats.upstreamCxOverflow().inc();
      if (dedicated) {
        ch.stats.upstreamRqPendingOverflow().inc(); // an upgrade needs a connection of its own
        cb.overflowed();
        return true;
      }
      Pending p = new Pending(listener, cb, st);
      p.queue = host.pending;
      host.pending.add(p);
      cb.waiting(p);
      return true;
    }
    Pending p = new Pending(listener, cb, st);
    cb.waiting(p); // before connecting: a connect may complete at once
    connectHttp1(host, ch, p);
    return true;
  }

  /**
   * Envoy's {@code per_upstream_preconnect_ratio} on HTTP/1.1 ({@code shouldConnect}): while the
   * host's requests in flight times the ratio exceed its connections (busy, idle and connecting),
   * one more is opened for the idle pool; at most three per call (Envoy's bound) and within {@code
   * max_connections}.
   */
  private void preconnect(Host host, ClusterHosts ch) {
    long max = ch.config.policy().limits().maxConnections();
    for (int i = 0; i < 3 && host.active * ch.preconnectRatio > host.connections; i++) {
      if (ch.state.connections.get() >= max) {
        return;
      }
      connectHttp1(host, ch, null);
    }
  }

  /**
   * Opens a connection to {@code host} for the waiting request {@code p}, or for the idle pool when
   * {@code p} is null (a preconnect).
   */
  private void connectHttp1(Host host, ClusterHosts ch, @Nullable Pending p) {
    ch.stats.upstreamCxTotal().inc();
    ChannelFuture f =
        connect(
            host,
            ch,
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel c) {
                var codec = http1Codec(ch.config);
                c.pipeline().addLast(codec);
                c.pipeline().addLast(new UpstreamConnection(Worker.this, host, ch, c, codec));
              }
            });
    f.addListener(
        (ChannelFuture done) -> {
          if (done.isSuccess()) {
            ch.state.localSuccess(host.health);
            var maxDuration = ch.config.policy().maxConnectionDuration();
            if (!maxDuration.isZero()) {
              UpstreamConnection.of(done.channel()).expireAfter(maxDuration);
            }
            if (p == null || !p.end()) {
              // a preconnect, or the request gave up meanwhile: as in Envoy's pool the connection
              // stays, for the next request waiting or in the idle pool
              release(host, ch, done.channel());
              return;
            }
            UpstreamConnection uc = UpstreamConnection.of(done.channel());
            uc.bind(p.listener);
            p.cb.acquired(uc);
            if (ch.preconnectRatio > 1) {
              preconnect(host, ch);
            }
          } else {
            ch.stats.upstreamCxConnectFail().inc();
            host.connectFailed();
            ch.state.localFailure(host.health, false);
            if (p != null && p.end()) {
              ch.stats.upstreamRqPendingFailureEject().inc(); // Envoy's purgePendingStreams
              host.failed(); // Envoy's router charges its 503 to the host (rq_error)
              p.cb.failed(connectFailure(done.cause()));
            }
          }
        });
  }

  /**
   * The HTTP/1.1 codec of an upstream connection of {@code cluster}: the codec closes a pooled
   * connection idle for the cluster's idle timeout (UpstreamConnection ignores it while a request
   * runs), without an idle handler of its own. Its status line and its header lines each take at
   * most the cluster's {@code max_response_headers_kb} (Envoy's HTTP/1 client codec: 80 KiB when
   * unset, http_parser's limit); a larger head is a protocol error (502).
   */
  static dev.bowline.proxy.transport.Http1ClientCodec http1Codec(ClusterConfig cluster) {
    int head = cluster.policy().http1ResponseHeadBytes();
    return new dev.bowline.proxy.transport.Http1ClientCodec(
        dev.bowline.proxy.transport.Http1Decoding.config(head, head, 65536),
        cluster.policy().idleTimeout(),
        cluster.policy().http1EnableTrailers());
  }

  /**
   * A connection of {@code host} came free or closed: the first request still waiting for one gets
   * it (or a new connection, if the cluster is below max_connections again).
   */
  boolean servePending(Host host, ClusterHosts ch, @Nullable Channel free) {
    Pending p;
    while ((p = host.pending.pollFirst()) != null) {
      p.queue = null;
      if (p.gaveUp()) {
        continue;
      }
      if (free != null) {
        if (!p.end()) {
          continue;
        }
        UpstreamConnection uc = UpstreamConnection.of(free);
        uc.bind(p.listener);
        p.cb.acquired(uc);
        return true;
      }
      if (ch.state.connections.get() < ch.config.policy().limits().maxConnections()
          || host.connections == 0) {
        connectHttp1(host, ch, p); // pending until that connection is up
        return false;
      }
      p.queue = host.pending; // still no room: keep waiting
      host.pending.addFirst(p);
      return false;
    }
    return false;
  }

  /**
   * HTTP/2 upstream: a stream on one of the host's HTTP/2 connections on this loop, by Envoy's pool
   * rules (see {@link H2Pool}).
   */
  private void acquireH2(
      Host host, ClusterHosts ch, ResponseListener listener, AcquireCallback cb) {
    H2Pool pool = host.h2;
    if (pool == null) {
      pool = host.h2 = new H2Pool(this, host, ch);
    }
    pool.newStream(ch, listener, cb);
  }

  /**
   * Picks a host and opens a fresh connection to it with {@code handler} (for TCP proxying); null
   * when the cluster has no host or is at {@code max_connections}.
   */
  public @Nullable ChannelFuture connectRaw(
      ClusterConfig cluster, Endpoints endpoints, ChannelHandler handler) {
    return connectRaw(cluster, endpoints, null, handler);
  }

  /**
   * As {@link #connectRaw(ClusterConfig, Endpoints, ChannelHandler)}; a non-null {@code pinned} is
   * the host to connect to instead of the balancer's pick (ORIGINAL_DST).
   */
  public @Nullable ChannelFuture connectRaw(
      ClusterConfig cluster,
      Endpoints endpoints,
      @Nullable SocketAddr pinned,
      ChannelHandler handler) {
    ClusterHosts ch = hosts(cluster, endpoints);
    Host host = pinned != null ? ch.find(pinned) : ch.pick(random);
    if (host == null) {
      return null;
    }
    if (ch.state.connections.get() >= cluster.policy().limits().maxConnections()) {
      ch.stats.upstreamCxOverflow().inc(); // tcp_proxy closes the downstream connection
      return null;
    }
    ch.stats.upstreamCxTotal().inc();
    ChannelFuture f = connect(host, ch, handler);
    f.addListener(
        done -> {
          if (!done.isSuccess()) {
            ch.stats.upstreamCxConnectFail().inc();
            host.connectFailed();
            ch.state.localFailure(host.health, false);
          } else {
            ch.state.localSuccess(host.health);
          }
        });
    return f;
  }

  ChannelFuture connect(Host host, ClusterHosts ch, ChannelHandler handler) {
    var tls = host.tls;
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(transport.socketChannelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, ch.config.connectTimeout().toMillis()));
    ch.config.policy().tcpKeepalive().ifPresent(k -> UpstreamOptions.keepalive(b, k));
    int limit = ch.config.policy().bufferLimitBytes();
    if (limit > 0) { // Envoy's per_connection_buffer_limit_bytes: high watermark, low at half
      b.option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(limit / 2, limit));
    }
    var remote = host.address.toInet();
    UpstreamOptions.bind(b, ch.config.bind(), remote, transport.socketChannelClass());
    ChannelFuture f = b.handler(handler).connect(remote);
    ClusterStats cs = ch.stats;
    ClusterState st = ch.state;
    st.connections.incrementAndGet();
    host.connections++;
    host.connectionOpened();
    java.util.Set<Channel> open = null;
    if (ch.config.closeOnHealthFailure()) { // close_connections_on_host_health_failure
      Host lb = host.lb;
      open = lb.open;
      if (open == null) {
        open = lb.open = new java.util.HashSet<>();
      }
      open.add(f.channel());
    }
    java.util.Set<Channel> tracked = open;
    f.channel()
        .closeFuture()
        .addListener(
            x -> {
              if (tracked != null) {
                tracked.remove(f.channel());
              }
              st.connections.decrementAndGet();
              host.connections--;
              host.connectionClosed();
              if (!host.pending.isEmpty()) {
                ClusterHosts current = clusters.get(ch.config.name());
                servePending(host, current != null ? current : ch, null);
              }
            });
    if (tls == null) {
      countTimeout(f, cs); // Netty's CONNECT_TIMEOUT_MILLIS bounds the TCP connect
      return f;
    }
    // The cluster's TLS transport socket: the connection counts as made once the handshake is, and
    // connect_timeout covers both (Envoy's connect timer runs until its Connected event, which a
    // TLS socket raises when its handshake is done)
    Channel c = f.channel();
    ChannelPromise done = c.newPromise();
    countTimeout(done, cs);
    SslHandler ssl =
        TlsSockets.client(
            c,
            tls,
            tlsContexts,
            stats,
            ch.config.statName(),
            host.address.ip(),
            host.address.port());
    if (ssl == null) {
      c.close();
      return done.setFailure(new javax.net.ssl.SSLException("TLS secrets not ready"));
    }
    ssl.setHandshakeTimeoutMillis(0); // no bound of its own: the connect timer below is it
    long timeout = ch.config.connectTimeout().toNanos();
    var timer =
        loop.schedule(
            () -> {
              if (done.tryFailure(
                  new io.netty.channel.ConnectTimeoutException(
                      "connection timed out after "
                          + ch.config.connectTimeout().toMillis()
                          + " ms (TLS handshake)"))) {
                // past the handlers: an HTTP/2 codec would wait for its GOAWAY, which cannot go
                // out before the handshake, and TLS for its close_notify
                c.unsafe().close(c.unsafe().voidPromise());
              }
            },
            timeout,
            java.util.concurrent.TimeUnit.NANOSECONDS);
    done.addListener(x -> timer.cancel(false));
    f.addListener(
        (ChannelFuture connected) -> {
          if (!connected.isSuccess()) {
            done.tryFailure(connected.cause());
            return;
          }
          ssl.handshakeFuture()
              .addListener(
                  h -> {
                    if (h.isSuccess()) {
                      done.trySuccess();
                    } else {
                      done.tryFailure(h.cause());
                      c.close();
                    }
                  });
        });
    return done;
  }

  /**
   * Counts {@code upstream_cx_connect_timeout} when {@code connecting} fails for its connect timer
   * (Envoy also counts such a connection in {@code upstream_cx_connect_fail}, which the callers do
   * for every failed connect).
   */
  private static void countTimeout(ChannelFuture connecting, ClusterStats stats) {
    connecting.addListener(
        done -> {
          if (done.cause() instanceof io.netty.channel.ConnectTimeoutException) {
            stats.upstreamCxConnectTimeout().inc();
          }
        });
  }

  /**
   * Envoy's reset reason for a connection that did not come up ({@code resetReasonToString} of the
   * pool's failure reason), followed by its transport failure reason the way Envoy's router writes
   * both into its 503 body ({@code ", transport failure reason: "}): {@code connection timeout}
   * when the connect timer ran out (TCP connect and TLS handshake); {@code remote connection
   * failure} when the peer refused or closed it, a refused connect adding {@code delayed connect
   * error: Connection refused} (Envoy's {@code ConnectionImpl}: the socket's error as {@code
   * strerror} words; {@code immediate connect error} when the connect call itself failed); {@code
   * local connection failure} when the proxy closed it, a failed TLS handshake adding {@code
   * TLS_error:|<the TLS stack's message>:TLS_error_end} (Envoy's shape; the message is Java's, not
   * BoringSSL's error queue).
   */
  public static String connectFailure(@Nullable Throwable cause) {
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "connection timeout";
    }
    if (cause instanceof java.net.ConnectException e) {
      return REMOTE_FAILURE + TRANSPORT_FAILURE + connectError(e);
    }
    if (cause instanceof javax.net.ssl.SSLException e) {
      String m = String.valueOf(e.getMessage());
      if (m.startsWith("Connection closed") || e.getCause() instanceof java.io.IOException) {
        return REMOTE_FAILURE; // the peer went away during the handshake
      }
      return "local connection failure" + TRANSPORT_FAILURE + "TLS_error:|" + m + ":TLS_error_end";
    }
    if (cause instanceof java.io.IOException) {
      return REMOTE_FAILURE; // reset or closed by the peer
    }
    return "local connection failure";
  }

  /** {@code remote connection failure}: Envoy's reset reason for a connect the peer failed. */
  public static final String REMOTE_FAILURE = "remote connection failure";

  /** What Envoy's router puts between a reset reason and its transport failure reason. */
  public static final String TRANSPORT_FAILURE = ", transport failure reason: ";

  /**
   * Envoy's transport failure reason of a refused connect: {@code delayed connect error: } and the
   * socket error's words when the connect completed with an error (Netty's {@code finishConnect}),
   * {@code immediate connect error: } when the connect call failed at once.
   */
  private static String connectError(java.net.ConnectException e) {
    String m = String.valueOf(e.getMessage());
    boolean immediate = m.startsWith("connect(");
    if (!immediate && !m.startsWith("finishConnect(")) {
      // NIO: the JDK's message has no call in it; its stack says which call failed
      immediate = true;
      for (StackTraceElement f : e.getStackTrace()) {
        if (f.getMethodName().contains("finishConnect")) {
          immediate = false;
          break;
        }
      }
    }
    int at = m.lastIndexOf(": /");
    if (at >= 0) {
      m = m.substring(0, at); // Netty appends the remote address
    }
    int words = m.contains(" failed") ? m.lastIndexOf(": ") : -1;
    if (words >= 0) {
      // Netty's native transports: "finishConnect(..) failed with error(-111): Connection refused"
      m = m.substring(words + 2);
    }
    return (immediate ? "immediate connect error: " : "delayed connect error: ") + m;
  }

  void release(Host host, ClusterHosts cluster, Channel channel) {
    ClusterHosts current = clusters.get(cluster.config.name());
    if (current == null || !containsHost(current, host.lb)) {
      channel.close(); // the host left the cluster while the request ran
      return;
    }
    if (!host.pending.isEmpty() && servePending(host, current, channel)) {
      return;
    }
    host.idle.addLast(channel);
  }

  private static boolean containsHost(ClusterHosts ch, Host host) {
    for (Host h : ch.hosts) {
      if (h == host) {
        return true;
      }
    }
    return false;
  }

  /**
   * Takes a retry from {@code cluster}'s {@code max_retries} budget (cluster-wide, across loops):
   * true when the retry may go ahead, and the caller must then call {@link #retryDone} once it
   * ends; false (counted as {@code upstream_rq_retry_overflow}) when the budget is spent and the
   * request must not be retried. For the router's retry logic.
   */
  public boolean tryRetry(ClusterConfig cluster) {
    ClusterState st = states.of(cluster);
    if (st.retries.incrementAndGet() > cluster.policy().limits().maxRetries()) {
      st.retries.decrementAndGet();
      st.stats.upstreamRqRetryOverflow().inc();
      return false;
    }
    return true;
  }

  /** A retry granted by {@link #tryRetry} has ended (answered, failed or given up). */
  public void retryDone(ClusterConfig cluster) {
    states.of(cluster).retries.decrementAndGet();
  }

  /** The proxy's cluster-wide state (circuit breakers, outlier detection). */
  public ClusterStates states() {
    return states;
  }

  /**
   * Closes every connection of this loop to {@code address} of {@code cluster}, busy ones included
   * (Envoy's {@code onHostHealthFailure} with {@code close_connections_on_host_health_failure});
   * any thread may call it, the work is done on this loop.
   */
  void closeConnectionsTo(String cluster, SocketAddr address) {
    loop.execute(
        () -> {
          ClusterHosts h = clusters.get(cluster);
          Host host = h == null ? null : h.find(address);
          if (host == null || host.open == null) {
            return;
          }
          for (Channel c : host.open.toArray(Channel[]::new)) {
            c.close();
          }
        });
  }

  /** Forgets clusters that are gone from the config; closes their idle connections. */
  public void retain(java.util.Set<String> clusterNames) {
    var it = clusters.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!clusterNames.contains(e.getKey())) {
        e.getValue().closeAll();
        it.remove();
        originalDst.remove(e.getKey());
        originalDstEndpoints.remove(e.getKey());
      }
    }
    if (published.size() != clusters.size()) {
      published = Map.copyOf(clusters);
    }
  }

  /**
   * Envoy's per-host stats of the endpoint at {@code address} of {@code cluster}, summed over the
   * loops of {@code workers} (the admin's {@code /clusters}). Any thread: each loop's counts are
   * plain fields its loop writes, read here without synchronisation, so a count may lag by the
   * requests in flight.
   */
  public static HostCounts hostCounts(
      java.util.Collection<Worker> workers, String cluster, SocketAddr address) {
    long[] c = new long[8];
    for (Worker w : workers) {
      ClusterHosts ch = w.published.get(cluster);
      Host h = ch == null ? null : ch.find(address);
      if (h != null) {
        c[0] += h.cxConnectFail;
        c[1] += h.cxTotal;
        c[2] += h.rqError;
        c[3] += h.rqSuccess;
        c[4] += h.rqTimeout;
        c[5] += h.rqTotal;
        c[6] += h.cxActive;
        c[7] += h.active;
      }
    }
    return new HostCounts(c[0], c[1], c[2], c[3], c[4], c[5], Math.max(0, c[6]), Math.max(0, c[7]));
  }

  /**
   * Envoy's {@code ALL_HOST_STATS}: the counters, then the gauges {@code cx_active} and {@code
   * rq_active}, in Envoy's order.
   */
  public record HostCounts(
      long cxConnectFail,
      long cxTotal,
      long rqError,
      long rqSuccess,
      long rqTimeout,
      long rqTotal,
      long cxActive,
      long rqActive) {}
}
