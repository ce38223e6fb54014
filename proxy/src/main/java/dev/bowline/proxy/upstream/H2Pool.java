package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import org.jspecify.annotations.Nullable;

/**
 * One host's upstream HTTP/2 connections on one event loop: Envoy's HTTP/2 connection pool ({@code
 * conn_pool_base.cc}, {@code http2/conn_pool.cc}).
 *
 * <ul>
 *   <li>A new stream goes to the first connection with spare capacity (see {@link H2Connection}).
 *   <li>With none, the request waits as pending ({@code max_pending_requests}, else 503 UO and
 *       {@code upstream_rq_pending_overflow}) and connections are opened while the waiting requests
 *       outnumber what the connecting ones are expected to carry, at most three per call as Envoy.
 *       {@code max_connections} stops that ({@code upstream_cx_overflow}) unless the pool has no
 *       connection at all; the requests then wait for a stream of this host to end.
 *   <li>{@code max_requests} is checked when a stream is attached ({@code
 *       upstream_rq_pending_overflow}, 503 UO).
 *   <li>A connection that fails to come up fails every waiting request ({@code
 *       upstream_rq_pending_failure_eject}); the router then retries or answers 503 UF.
 * </ul>
 *
 * <p>Unlike Envoy, a connection takes streams only once the peer's first SETTINGS arrived, so no
 * stream is sent past a limit the proxy has not learned yet (Envoy attaches on connect and leaves
 * the excess to its codec or to the peer's REFUSED_STREAM; its source notes waiting for SETTINGS
 * would avoid that at a latency cost: the server sends its SETTINGS as it accepts, so that is about
 * one round trip for the first requests on a new connection). A connecting connection is counted
 * for the peer limit its host's last connection announced (Envoy does this only with its HTTP
 * server properties cache), so a burst opens the connections it needs at once.
 *
 * <p>Touched only from the worker's event loop.
 */
final class H2Pool {
  /** Envoy's cap on the streams of one connection when max_requests_per_connection is unset. */
  static final long DEFAULT_MAX_STREAMS = 1L << 29;

  /** Envoy's cap on connections opened by one call (its preconnect bound). */
  private static final int MAX_CONNECTS_PER_CALL = 3;

  private final Worker worker;
  private final Host host;
  private final ArrayList<H2Connection> connections = new ArrayList<>(2);
  private final ArrayDeque<Worker.Pending> pending = new ArrayDeque<>();

  /** The cluster as last seen by a request (config, counters, circuit breakers). */
  private ClusterHosts cluster;

  /** Streams the connecting connections are expected to carry. */
  private long connectingCapacity;

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS as last announced on any connection; -1 before. */
  private long peerLimit = -1;

  /** The host left its cluster: no new connection, each one closes once idle. */
  private boolean draining;

  H2Pool(Worker worker, Host host, ClusterHosts cluster) {
    this.worker = worker;
    this.host = host;
    this.cluster = cluster;
  }

  /** Starts a stream for {@code listener} now, or once a connection has room. */
  void newStream(ClusterHosts ch, ResponseListener listener, Worker.AcquireCallback cb) {
    cluster = ch;
    H2Connection c = ready();
    if (c != null) {
      attach(c, listener, cb);
      return;
    }
    ClusterState st = ch.state;
    long maxPending = ch.config.policy().limits().maxPendingRequests();
    if (st.pending.get() >= maxPending
        && (dropCancelled() == 0 || st.pending.get() >= maxPending)) {
      ch.stats.upstreamRqPendingOverflow().inc();
      cb.overflowed();
      return;
    }
    Worker.Pending p = new Worker.Pending(listener, cb, st);
    p.queue = pending;
    pending.addLast(p);
    cb.waiting(p);
    tryConnect();
  }

  private @Nullable H2Connection ready() {
    for (int i = 0, n = connections.size(); i < n; i++) {
      H2Connection c = connections.get(i);
      if (c.canTake()) {
        return c;
      }
    }
    return null;
  }

  void attach(H2Connection c, ResponseListener listener, Worker.AcquireCallback cb) {
    ClusterHosts ch = cluster;
    if (ch.state.requests.get() >= ch.config.policy().limits().maxRequests()) {
      ch.stats.upstreamRqPendingOverflow().inc(); // Envoy counts max_requests here too
      cb.overflowed();
      return;
    }
    c.active++;
    if (--c.remaining == 0) {
      ch.stats.upstreamCxMaxRequests().inc();
      c.draining = true; // its last stream: it closes once that ends
    }
    H2Stream stream = new H2Stream(host, this, c, listener);
    var keepalive = c.keepalive;
    if (keepalive != null) {
      keepalive.beforeNewStream(); // connection_idle_interval: a PING first on a quiet connection
    }
    Future<Http2StreamChannel> f = c.streams.open();
    if (f.isDone()) {
      opened(f, stream, cb);
    } else {
      f.addListener(x -> opened(f, stream, cb));
    }
  }

  private static void opened(
      Future<Http2StreamChannel> f, H2Stream stream, Worker.AcquireCallback cb) {
    if (f.isSuccess()) {
      Channel s = f.getNow();
      s.pipeline().addLast(stream);
      stream.opened(s);
      cb.acquired(stream);
    } else {
      stream.notOpened();
      cb.failed(Worker.REMOTE_FAILURE); // its connection broke meanwhile
    }
  }

  /**
   * A stream of {@code c} ended: its slot serves a waiting request, or a draining {@code c} closes.
   */
  void streamClosed(H2Connection c) {
    c.active--;
    if (c.draining) {
      if (c.active == 0) {
        close(c);
      }
      return;
    }
    if (!pending.isEmpty()) {
      serve();
    }
  }

  /** The peer's SETTINGS on {@code c}; {@code maxStreams} is null when they do not set it. */
  void settings(H2Connection c, @Nullable Long maxStreams) {
    if (!c.ready) {
      c.ready = true;
      connectingCapacity -= c.estimate;
    }
    if (maxStreams != null) {
      c.limit = Math.min(c.configuredLimit, maxStreams);
      peerLimit = maxStreams;
    }
    if (!pending.isEmpty()) {
      serve();
    }
    if (draining && !c.draining) {
      c.draining = true; // it came up for the requests that waited; now it goes
      if (c.active == 0) {
        close(c);
      }
    }
  }

  /**
   * A PING of the cluster's {@code connection_keepalive} went unanswered on a connection: as
   * Envoy's codec, {@code http2.keepalive_timeout} counted in the cluster's scope and the
   * connection closed at once without GOAWAY (past the codec); its streams end as on any close.
   * {@code ctx} is the keepalive handler's.
   */
  void keepaliveTimeout(io.netty.channel.ChannelHandlerContext ctx) {
    cluster.stats.http2KeepaliveTimeout().inc();
    var codec = ctx.pipeline().context(io.netty.handler.codec.http2.Http2FrameCodec.class);
    (codec != null ? codec : ctx).close();
  }

  /** The peer broke the HTTP/2 protocol on one of the connections, which then closes. */
  void protocolError() {
    cluster.stats.upstreamCxProtocolError().inc();
  }

  /** A GOAWAY on {@code c}: it takes no new stream and closes once its streams end. */
  void goAway(H2Connection c) {
    cluster.stats.upstreamCxCloseNotify().inc();
    drainConnection(c);
  }

  /**
   * {@code c} takes no new stream (a connection still connecting no longer counts as capacity on
   * its way) and closes once its streams end; requests still waiting get another connection.
   */
  private void drainConnection(H2Connection c) {
    if (!c.ready) {
      c.ready = true;
      connectingCapacity -= c.estimate;
    }
    c.draining = true;
    if (c.active == 0) {
      close(c);
    } else if (!pending.isEmpty()) {
      tryConnect();
    }
  }

  /**
   * {@code c} reached the cluster's {@code max_connection_duration} (Envoy's {@code
   * onConnectionDurationTimeout}): unless it drains already it is counted and drains, closing once
   * its streams end; requests still waiting get another connection.
   */
  private void durationReached(H2Connection c) {
    if (c.closed || c.draining) {
      return;
    }
    cluster.stats.upstreamCxMaxDurationReached().inc();
    drainConnection(c);
  }

  /** {@code c}'s channel closed. */
  private void closed(H2Connection c) {
    if (c.closed) {
      return;
    }
    c.closed = true;
    c.draining = true;
    connections.remove(c);
    if (!c.ready) {
      // it never took a stream: for the requests waiting, a failed connect
      c.ready = true;
      connectingCapacity -= c.estimate;
      cluster.stats.upstreamCxConnectFail().inc();
      host.connectFailed();
      cluster.state.localFailure(host.health, false);
      // the connect's own failure when it failed (Netty's bootstrap closes the channel before the
      // pool's listener sees the cause), else the peer closed it before its SETTINGS
      Throwable cause = c.connect == null ? null : c.connect.cause();
      purge(cause != null ? Worker.connectFailure(cause) : c.connectFailure);
    }
    if (!pending.isEmpty()) {
      tryConnect(); // as Envoy: a lost connection with requests waiting is replaced
    }
  }

  /** Opens connections while the waiting requests outnumber what the connecting ones will carry. */
  private void tryConnect() {
    ClusterHosts ch = cluster;
    for (int i = 0; i < MAX_CONNECTS_PER_CALL && pending.size() > connectingCapacity; i++) {
      if (draining) {
        if (connectingCapacity == 0) {
          purge("local connection failure"); // nothing left that could serve them
        }
        return;
      }
      if (ch.state.connections.get() >= ch.config.policy().limits().maxConnections()) {
        ch.stats.upstreamCxOverflow().inc();
        if (!connections.isEmpty()) {
          return; // they wait for a stream of this host to end
        }
        // as Envoy: a pool without any connection opens one past the limit, or its requests
        // could never be served
      }
      connect(ch);
    }
  }

  private void connect(ClusterHosts ch) {
    var policy = ch.config.policy();
    int maxRequests = ch.config.maxRequestsPerConnection();
    long remaining = maxRequests > 0 ? maxRequests : DEFAULT_MAX_STREAMS;
    int configured = policy.http2MaxConcurrentStreams();
    long estimate = Math.min(configured, remaining);
    if (peerLimit >= 0) {
      estimate = Math.min(estimate, peerLimit);
    }
    estimate = Math.max(1, estimate);
    H2Connection c = new H2Connection(this, configured, remaining, estimate);
    connections.add(c);
    connectingCapacity += estimate;
    ch.stats.upstreamCxTotal().inc();
    ChannelFuture f =
        worker.connect(
            host,
            ch,
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel conn) {
                initPipeline(conn.pipeline(), policy, c);
              }
            });
    c.bind(f.channel(), worker.h2StreamCodec);
    c.connect = f;
    f.channel().closeFuture().addListener(x -> closed(c));
    f.addListener(
        (ChannelFuture done) -> {
          if (done.isSuccess()) {
            ch.state.localSuccess(host.health);
            var maxDuration = policy.maxConnectionDuration();
            if (!maxDuration.isZero()) {
              var timer =
                  done.channel()
                      .eventLoop()
                      .schedule(
                          () -> durationReached(c),
                          maxDuration.toNanos(),
                          java.util.concurrent.TimeUnit.NANOSECONDS);
              done.channel().closeFuture().addListener(x -> timer.cancel(false));
            }
          } else {
            c.connectFailure = Worker.connectFailure(done.cause());
            done.channel().close(); // closed() fails the waiting requests
          }
        });
  }

  /**
   * The handlers of an upstream HTTP/2 connection of a cluster with {@code policy}, {@code c} last:
   * an idle timeout that closes the connection when it has had no stream and no traffic that long,
   * the client frame codec and the connection window with the cluster's HTTP/2 windows (Envoy's
   * defaults), the stream multiplexer (which resets any stream the server opens).
   */
  static void initPipeline(
      io.netty.channel.ChannelPipeline p,
      dev.bowline.proxy.config.ClusterPolicy policy,
      H2Connection c) {
    dev.bowline.proxy.transport.IdleTimeout.addTo(p, policy.idleTimeout());
    p.addLast(
        dev.bowline.proxy.transport.Http2ConnectionWindow.clientCodec(
            policy.http2StreamWindow(),
            policy.http2ResponseHeadBytes(),
            policy.maxResponseHeadersCount()));
    var keepalive = policy.http2Keepalive();
    if (keepalive != null) {
      c.keepalive =
          new dev.bowline.proxy.transport.Http2Keepalive(
              keepalive, ctx -> c.pool().keepaliveTimeout(ctx));
      p.addLast(c.keepalive);
    }
    p.addLast(
        new dev.bowline.proxy.transport.Http2ConnectionWindow(policy.http2ConnectionWindow()),
        new io.netty.handler.codec.http2.Http2MultiplexHandler(ServerStreams.INSTANCE),
        c);
  }

  /**
   * The handler of a stream the server opens: with push refused, a server has no stream to open
   * (HEADERS on an even stream id); each one is reset and what it reads dropped. One shared
   * instance: a handler of Netty's own there could not be added to a second such stream, which made
   * a {@code ChannelPipelineException} on the connection (found by Http2UpstreamFuzzTest).
   */
  @io.netty.channel.ChannelHandler.Sharable
  private static final class ServerStreams extends io.netty.channel.ChannelInboundHandlerAdapter {
    static final ServerStreams INSTANCE = new ServerStreams();

    @Override
    public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
      ctx.close();
    }

    @Override
    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
      io.netty.util.ReferenceCountUtil.release(msg);
    }
  }

  /** Fails every waiting request (its connection never came up) for {@code reason}. */
  private void purge(String reason) {
    if (pending.isEmpty()) {
      return;
    }
    // taken out first: a retry that comes back to this pool at once waits for a new connection
    Worker.Pending[] failed = pending.toArray(Worker.Pending[]::new);
    pending.clear();
    ClusterHosts ch = cluster;
    for (Worker.Pending p : failed) {
      p.queue = null;
      if (p.end()) {
        ch.stats.upstreamRqPendingFailureEject().inc();
        host.failed(); // Envoy's router charges its 503 to the host (rq_error)
        p.cb.failed(reason);
      }
    }
  }

  /** Serves waiting requests while a connection has room; opens more if some still wait. */
  private void serve() {
    while (!pending.isEmpty()) {
      H2Connection c = ready();
      if (c == null) {
        break;
      }
      Worker.Pending p = pending.pollFirst();
      p.queue = null;
      if (p.end()) {
        attach(c, p.listener, p.cb);
      }
    }
    if (!pending.isEmpty()) {
      tryConnect();
    }
  }

  /**
   * Forgets waiting requests whose callbacks say they gave up (those that cancel their wait have
   * left already); how many.
   */
  private int dropCancelled() {
    int n = 0;
    var it = pending.iterator();
    while (it.hasNext()) {
      Worker.Pending p = it.next();
      if (p.gaveUp()) {
        it.remove();
        p.queue = null;
        n++;
      }
    }
    return n;
  }

  private static void close(H2Connection c) {
    c.draining = true;
    c.channel.close();
  }

  /**
   * The host left its cluster: idle connections close, busy ones close when their streams end;
   * connections still coming up serve the requests waiting for them first.
   */
  void drain() {
    draining = true;
    for (H2Connection c : connections.toArray(H2Connection[]::new)) {
      if (c.ready || pending.isEmpty()) {
        c.draining = true;
        if (c.active == 0) {
          close(c);
        }
      }
    }
    if (!pending.isEmpty() && connectingCapacity == 0) {
      purge("local connection failure"); // the pool drains: the proxy gives them up
    }
  }
}
