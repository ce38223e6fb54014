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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's active health check (Envoy's {@code health_checks}): on one event loop, every
 * interval, probes each endpoint with a TCP connect or an HTTP GET; results change the endpoint's
 * {@link HostHealth#failedActiveHc} after the configured number of failures or successes in a row.
 * Endpoints start healthy (Envoy would hold them out until their first success; here a fresh
 * endpoint takes traffic at once).
 */
final class HealthChecker {
  private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());

  private final ClusterState state;
  private final EventLoop loop;
  private final Class<? extends Channel> channelClass;
  private final ClusterPolicy.HealthCheck check;
  private final ScheduledFuture<?> task;

  HealthChecker(
      ClusterState state,
      EventLoop loop,
      Class<? extends Channel> channelClass,
      ClusterPolicy.HealthCheck check) {
    this.state = state;
    this.loop = loop;
    this.channelClass = channelClass;
    this.check = check;
    long every = check.interval().toNanos();
    this.task = loop.scheduleAtFixedRate(this::round, 0, every, TimeUnit.NANOSECONDS);
  }

  ClusterPolicy.HealthCheck check() {
    return check;
  }

  void stop() {
    task.cancel(false);
  }

  private void round() {
    for (HostHealth h : state.hosts()) {
      probe(h);
    }
  }

  private void probe(HostHealth h) {
    boolean[] done = {false};
    java.util.function.Consumer<Boolean> finish =
        ok -> {
          if (!done[0]) {
            done[0] = true;
            result(h, ok);
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
              finish.accept(false);
              return;
            }
            var req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, http.path());
            req.headers()
                .set(HttpHeaderNames.HOST, http.host())
                .set(HttpHeaderNames.USER_AGENT, "Envoy/HC")
                .set(HttpHeaderNames.CONNECTION, "close");
            c.channel().writeAndFlush(req);
          });
    } else {
      f = b.handler(new ChannelInboundHandlerAdapter()).connect(remote);
      f.addListener(
          (ChannelFuture c) -> {
            finish.accept(c.isSuccess());
            c.channel().close();
          });
    }
    Channel ch = f.channel();
    loop.schedule(
        () -> {
          finish.accept(false); // no answer within timeout
          ch.close();
        },
        check.timeout().toNanos(),
        TimeUnit.NANOSECONDS);
  }

  private void result(HostHealth h, boolean ok) {
    if (ok) {
      h.hcFailures = 0;
      if (h.failedActiveHc && ++h.hcSuccesses >= check.healthyThreshold()) {
        h.failedActiveHc = false;
        state.healthChanged();
        LOG.log(
            System.Logger.Level.INFO,
            "event=health_check_healthy cluster={0} host={1}",
            state.name,
            h.address);
      }
    } else {
      h.hcSuccesses = 0;
      if (!h.failedActiveHc && ++h.hcFailures >= check.unhealthyThreshold()) {
        h.failedActiveHc = true;
        state.activeHcFailed(h);
        LOG.log(
            System.Logger.Level.INFO,
            "event=health_check_unhealthy cluster={0} host={1}",
            state.name,
            h.address);
      }
    }
  }

  /** Reads the probe's response status. */
  private static final class HttpProbeHandler extends ChannelInboundHandlerAdapter {
    private final ClusterPolicy.HttpProbe probe;
    private final java.util.function.Consumer<Boolean> finish;

    HttpProbeHandler(ClusterPolicy.HttpProbe probe, java.util.function.Consumer<Boolean> finish) {
      this.probe = probe;
      this.finish = finish;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse r) {
          int status = r.status().code();
          boolean ok = false;
          for (var range : probe.expected()) {
            ok |= status >= range.start() && status < range.end();
          }
          finish.accept(ok);
          ctx.close();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      finish.accept(false);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, @Nullable Throwable cause) {
      finish.accept(false);
      ctx.close();
    }
  }
}
