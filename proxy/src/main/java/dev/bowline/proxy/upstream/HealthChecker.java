package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterPolicy;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's active health check (Envoy's {@code health_checks}), as Envoy's {@code
 * HealthCheckerImplBase}: on one event loop, a session per endpoint probes it (TCP connect or HTTP
 * GET) at once, or after a random part of {@code initial_jitter}, then again after each probe once
 * the interval its result calls for has passed (see {@link ClusterPolicy.HealthCheck}). Results
 * change the endpoint's {@link HostHealth#failedActiveHc}: its first success at once, a failed
 * answer at once, network failures and retriable answers after {@code unhealthy_threshold} in a
 * row, successes after {@code healthy_threshold} in a row. Each endpoint's first result, success or
 * failure, counts towards the cluster's initialisation ({@link ClusterState#firstCheckDone}).
 */
final class HealthChecker {
  private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());

  /** What a probe found. */
  private enum Outcome {
    SUCCESS,
    /** An answer that fails the endpoint at once (Envoy's ACTIVE failure, not retriable). */
    FAILED,
    /** A retriable answer: counts towards {@code unhealthy_threshold}. */
    RETRIABLE,
    /** No connection, no answer, or none in time (Envoy's NETWORK / NETWORK_TIMEOUT). */
    NETWORK
  }

  private final ClusterState state;
  private final EventLoop loop;
  private final Class<? extends Channel> channelClass;
  private final ClusterPolicy.HealthCheck check;
  private final HcStats stats;

  // the checker's loop only
  private final Map<HostHealth, Session> sessions = new IdentityHashMap<>();
  private boolean stopped;

  HealthChecker(
      ClusterState state,
      EventLoop loop,
      Class<? extends Channel> channelClass,
      ClusterPolicy.HealthCheck check,
      HcStats stats) {
    this.state = state;
    this.loop = loop;
    this.channelClass = channelClass;
    this.check = check;
    this.stats = stats;
    loop.execute(this::sync);
  }

  ClusterPolicy.HealthCheck check() {
    return check;
  }

  /** The cluster's endpoints changed: sessions start for new ones and end for those gone. */
  void hostsChanged() {
    loop.execute(this::sync);
  }

  void stop() {
    loop.execute(
        () -> {
          stopped = true;
          sessions.values().forEach(Session::cancel);
          sessions.clear();
        });
  }

  private void sync() {
    if (stopped) {
      return;
    }
    Map<HostHealth, Boolean> live = new IdentityHashMap<>();
    for (HostHealth h : state.hosts()) {
      live.put(h, Boolean.TRUE);
    }
    var it = sessions.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!live.containsKey(e.getKey())) {
        e.getValue().cancel();
        it.remove();
      }
    }
    for (HostHealth h : live.keySet()) {
      if (!sessions.containsKey(h)) {
        Session s = new Session(h);
        sessions.put(h, s);
        long jitter = check.initialJitter().toNanos();
        s.schedule(jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter) : 0);
      }
    }
  }

  /** One endpoint's probes, on the checker's loop. */
  private final class Session {
    final HostHealth h;
    @Nullable ScheduledFuture<?> next;
    boolean cancelled;

    Session(HostHealth h) {
      this.h = h;
    }

    void schedule(long nanos) {
      next = loop.schedule(this::probe, nanos, TimeUnit.NANOSECONDS);
    }

    void cancel() {
      cancelled = true;
      var f = next;
      if (f != null) {
        f.cancel(false);
      }
    }

    void probe() {
      if (cancelled) {
        return;
      }
      stats.attempt().inc();
      boolean[] done = {false};
      ScheduledFuture<?>[] timer = {null};
      Channel[] channel = {null};
      Consumer<Outcome> finish =
          outcome -> {
            if (!done[0]) {
              done[0] = true;
              if (timer[0] != null) {
                timer[0].cancel(false);
              }
              if (channel[0] != null) {
                channel[0].close();
              }
              if (!cancelled) {
                schedule(result(h, outcome));
              }
            }
          };
      Bootstrap b =
          new Bootstrap()
              .group(loop)
              .channel(channelClass)
              .option(
                  ChannelOption.CONNECT_TIMEOUT_MILLIS,
                  (int) Math.max(1, check.timeout().toMillis()));
      // as Envoy's createHealthCheckConnection: the cluster's source address and freebind
      var remote = h.address.toInet();
      UpstreamOptions.bind(b, state.config().bind(), remote, channelClass);
      ChannelFuture f;
      if (check.probe() instanceof ClusterPolicy.HttpProbe http) {
        f =
            b.handler(
                    new ChannelInitializer<Channel>() {
                      @Override
                      protected void initChannel(Channel c) {
                        c.pipeline().addLast(new HttpClientCodec());
                        c.pipeline().addLast(new HttpProbeHandler(http, finish));
                      }
                    })
                .connect(remote);
        f.addListener(
            (ChannelFuture c) -> {
              if (!c.isSuccess()) {
                finish.accept(Outcome.NETWORK);
                return;
              }
              var req =
                  new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, http.path());
              req.headers()
                  .set(HttpHeaderNames.HOST, http.host())
                  .set(HttpHeaderNames.USER_AGENT, "Envoy/HC")
                  .set(HttpHeaderNames.CONNECTION, "close");
              c.channel().writeAndFlush(req);
            });
      } else {
        f = b.handler(new ChannelInboundHandlerAdapter()).connect(remote);
        f.addListener(
            (ChannelFuture c) -> finish.accept(c.isSuccess() ? Outcome.SUCCESS : Outcome.NETWORK));
      }
      channel[0] = f.channel();
      if (!done[0]) {
        timer[0] =
            loop.schedule(
                () -> finish.accept(Outcome.NETWORK), // no answer within timeout
                check.timeout().toNanos(),
                TimeUnit.NANOSECONDS);
      }
    }
  }

  /** Applies a probe's outcome to {@code h}; the nanoseconds until its next probe. */
  private long result(HostHealth h, Outcome outcome) {
    boolean pending = false; // a result that did not (yet) change the endpoint's health
    boolean first = h.firstCheck;
    if (outcome == Outcome.SUCCESS) {
      stats.success().inc();
      h.hcFailures = 0;
      if (h.failedActiveHc) {
        // as Envoy: the first result ever makes a fresh endpoint healthy at once
        if (first || ++h.hcSuccesses >= check.healthyThreshold()) {
          h.hcSuccesses = 0;
          h.failedActiveHc = false;
          state.healthChanged();
          LOG.log(
              System.Logger.Level.INFO,
              "event=health_check_healthy cluster={0} host={1} first_check={2}",
              state.name,
              h.address,
              first);
        } else {
          pending = true;
        }
      }
    } else {
      stats.failure().inc();
      if (outcome == Outcome.NETWORK) {
        stats.networkFailure().inc();
      }
      h.hcSuccesses = 0;
      if (!h.failedActiveHc) {
        if (outcome == Outcome.FAILED || ++h.hcFailures >= check.unhealthyThreshold()) {
          h.hcFailures = 0;
          h.failedActiveHc = true;
          state.activeHcFailed(h);
          LOG.log(
              System.Logger.Level.INFO,
              "event=health_check_unhealthy cluster={0} host={1} failure={2}",
              state.name,
              h.address,
              outcome);
        } else {
          pending = true;
        }
      }
    }
    if (h.pendingActiveHc) {
      h.pendingActiveHc = false;
      state.healthChanged();
    }
    if (first) {
      h.firstCheck = false;
      state.firstCheckDone();
    }
    return nextInterval(outcome == Outcome.SUCCESS, pending);
  }

  /** Envoy's {@code HealthCheckerImplBase::interval}: see {@link ClusterPolicy.HealthCheck}. */
  private long nextInterval(boolean success, boolean pending) {
    long base;
    if (state.stats.upstreamCxTotal().value() == 0) {
      // no connection ever: a much slower pace keeps the endpoints roughly known
      base =
          success && !check.noTrafficHealthyInterval().isZero()
              ? check.noTrafficHealthyInterval().toNanos()
              : check.noTrafficInterval().toNanos();
    } else if (success) {
      base = pending ? check.healthyEdgeInterval().toNanos() : check.interval().toNanos();
    } else {
      base =
          pending ? check.unhealthyEdgeInterval().toNanos() : check.unhealthyInterval().toNanos();
    }
    var random = ThreadLocalRandom.current();
    long jitter = base;
    if (check.intervalJitterPercent() > 0) {
      long bound = check.intervalJitterPercent() * base / 100;
      if (bound > 0) {
        jitter += random.nextLong(bound);
      }
    }
    long fixed = check.intervalJitter().toNanos();
    if (fixed > 0) {
      jitter += random.nextLong(fixed);
    }
    return jitter;
  }

  /** Reads the probe's response status. */
  private static final class HttpProbeHandler extends ChannelInboundHandlerAdapter {
    private final ClusterPolicy.HttpProbe probe;
    private final Consumer<Outcome> finish;

    HttpProbeHandler(ClusterPolicy.HttpProbe probe, Consumer<Outcome> finish) {
      this.probe = probe;
      this.finish = finish;
    }

    private static boolean in(java.util.List<ClusterPolicy.StatusRange> ranges, int status) {
      for (var range : ranges) {
        if (status >= range.start() && status < range.end()) {
          return true;
        }
      }
      return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse r) {
          int status = r.status().code();
          finish.accept(
              in(probe.expected(), status)
                  ? Outcome.SUCCESS
                  : in(probe.retriable(), status) ? Outcome.RETRIABLE : Outcome.FAILED);
          ctx.close();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      finish.accept(Outcome.NETWORK);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, @Nullable Throwable cause) {
      finish.accept(Outcome.NETWORK);
      ctx.close();
    }
  }
}
