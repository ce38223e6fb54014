package dev.bowline.proxy.tcp;

import dev.bowline.proxy.accesslog.AccessLogType;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.TcpProxyConfig;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.upstream.Worker;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Relays bytes between a downstream connection and a new connection to a host of the chosen
 * cluster. Reading from one side pauses while the other cannot take more (backpressure); either
 * side closing closes both; no bytes either way for the idle timeout closes both.
 */
public final class TcpProxy {
  private TcpProxy() {}

  /** Installs the TCP proxy {@code config} on the fresh downstream channel {@code ch}. */
  public static void install(Channel ch, TcpProxyConfig config, ProxyRuntime runtime) {
    ch.config().setAutoRead(false);
    // Envoy's idle_timeout: no bytes on either connection for that long. Every byte relayed is
    // read from or written to the downstream, so its activity alone tells (the shared handler, not
    // Netty's IdleStateHandler and its promise and listener per write)
    dev.bowline.proxy.transport.IdleTimeout.addTo(ch.pipeline(), config.idleTimeout());
    TcpSession session = new TcpSession(ch);
    ch.attr(TcpSession.KEY).set(session);
    if (!config.maxDownstreamConnectionDuration().isZero()) {
      maxDuration(ch, config, runtime, session);
    }
    if (config.accessLogFlush().periodic() && !config.accessLogs().isEmpty()) {
      periodicLogs(ch, config, session);
    }
    ch.pipeline().addLast(new Downstream(config, runtime, session));
  }

  /** Writes the connection's line of {@code type} to each of {@code config}'s access logs. */
  private static void log(TcpProxyConfig config, TcpSession session, AccessLogType type) {
    var logs = config.accessLogs();
    for (int i = 0, n = logs.size(); i < n; i++) {
      logs.get(i).log(session, type);
    }
  }

  /**
   * Envoy's {@code access_log_flush_interval}: a {@code TcpPeriodic} line every interval while the
   * connection lasts (one task per connection, only when configured; cancelled at the close).
   */
  private static void periodicLogs(Channel ch, TcpProxyConfig config, TcpSession session) {
    long every = config.accessLogFlush().interval().toNanos();
    var timer =
        ch.eventLoop()
            .scheduleWithFixedDelay(
                () -> {
                  if (ch.isActive()) {
                    log(config, session, AccessLogType.TcpPeriodic);
                  }
                },
                every,
                every,
                java.util.concurrent.TimeUnit.NANOSECONDS);
    ch.closeFuture().addListener(f -> timer.cancel(false));
  }

  /**
   * Envoy's {@code max_downstream_connection_duration}: a connection that old is closed (both
   * sides), flagged {@code DT} (DurationTimeout) and counted.
   */
  private static void maxDuration(
      Channel ch, TcpProxyConfig config, ProxyRuntime runtime, TcpSession session) {
    var timer =
        ch.eventLoop()
            .schedule(
                () -> {
                  if (!ch.isActive()) {
                    return;
                  }
                  session.flag(ResponseFlag.DT);
                  runtime
                      .stats()
                      .counter(
                          "tcp." + config.statPrefix() + ".max_downstream_connection_duration",
                          "envoy_tcp_max_downstream_connection_duration",
                          java.util.Map.of("envoy_tcp_prefix", config.statPrefix()))
                      .inc();
                  ch.close();
                },
                config.maxDownstreamConnectionDuration().toNanos(),
                java.util.concurrent.TimeUnit.NANOSECONDS);
    ch.closeFuture().addListener(f -> timer.cancel(false));
  }

  private static final class Downstream extends ChannelInboundHandlerAdapter {
    private final TcpProxyConfig config;
    private final ProxyRuntime runtime;
    private final TcpSession session;
    private @Nullable Channel upstream;

    Downstream(TcpProxyConfig config, ProxyRuntime runtime, TcpSession session) {
      this.config = config;
      this.runtime = runtime;
      this.session = session;
    }

    /**
     * Bytes that came before the upstream connected: those a listener filter (tls_inspector,
     * http_inspector) or a read filter (RBAC) already read when the proxy was installed.
     */
    private final java.util.ArrayDeque<Object> pending = new java.util.ArrayDeque<>(2);

    private boolean started;
    private boolean connected;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      // Installed after a listener filter: the channel is active already, channelActive is past.
      if (ctx.channel().isActive()) {
        connect(ctx);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      connect(ctx);
      ctx.fireChannelActive();
    }

    private void connect(ChannelHandlerContext ctx) {
      if (started) {
        return;
      }
      started = true;
      Channel down = ctx.channel();
      Worker worker = runtime.worker(down.eventLoop());
      ProxySnapshot snapshot = runtime.snapshot();
      String name = config.clusters().pick(worker.random());
      session.cluster(name);
      ClusterConfig cluster = snapshot.clusters().get(name);
      if (cluster != null) {
        session.clusterConfig(cluster);
      }
      dev.bowline.proxy.config.Endpoints endpoints;
      dev.bowline.proxy.config.SocketAddr pinned = null;
      if (cluster != null && cluster.discovery() instanceof ClusterConfig.OriginalDst) {
        // Envoy's chooseHost without request headers: the connection's restored local address
        var r = dev.bowline.proxy.config.ConnectionInfo.restoredLocal(down);
        pinned =
            r == null
                ? null
                : new dev.bowline.proxy.config.SocketAddr(
                    r.getAddress().getHostAddress(), r.getPort());
        endpoints = pinned == null ? null : worker.originalDst(cluster, pinned);
      } else {
        endpoints = cluster == null ? null : snapshot.endpointsOrNull(cluster);
      }
      ChannelFuture f =
          cluster == null || endpoints == null
              ? null
              : worker.connectRaw(
                  cluster, endpoints, pinned, upstreamHandlers(cluster, down, session));
      if (f == null) {
        // no cluster: NC; no endpoint, no healthy host or the connection limit reached: UH
        session.flag(cluster == null ? ResponseFlag.NC : ResponseFlag.UH);
        down.close();
        return;
      }
      session.upstream(f.channel());
      upstream = f.channel();
      f.addListener(
          (ChannelFuture done) -> {
            if (done.isSuccess()) {
              connected = true;
              Object m;
              while ((m = pending.poll()) != null) {
                done.channel().write(m).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
              }
              done.channel().flush();
              down.config().setAutoRead(true);
              done.channel().config().setAutoRead(true);
              if (config.accessLogFlush().onConnected()) {
                // Envoy's flush_access_log_on_connected: once the upstream connection is up
                log(config, session, AccessLogType.TcpUpstreamConnected);
              }
            } else {
              session.flag(ResponseFlag.UF);
              releasePending();
              down.close();
            }
          });
    }

    private void releasePending() {
      Object m;
      while ((m = pending.poll()) != null) {
        ReferenceCountUtil.release(m);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof io.netty.buffer.ByteBuf b) {
        session.bytesReceived += b.readableBytes();
      }
      Channel up = upstream;
      if (up == null) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (!connected) {
        pending.add(msg);
        return;
      }
      up.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
      if (!up.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      Channel up = upstream;
      if (up != null) {
        up.config().setAutoRead(ctx.channel().isWritable());
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        ctx.close();
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      releasePending();
      Channel up = upstream;
      if (up != null) {
        up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      if (!config.accessLogs().isEmpty()) {
        session.end();
        log(config, session, AccessLogType.TcpConnectionEnd); // Envoy: when the filter goes
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** The cluster's upstream network filters (Cluster.filters), then the relay to {@code down}. */
  private static io.netty.channel.ChannelHandler upstreamHandlers(
      ClusterConfig cluster, Channel down, TcpSession session) {
    if (cluster.upstreamFilters().isEmpty()) {
      return new Relay(down, session);
    }
    return new io.netty.channel.ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel up) {
        for (var f : cluster.upstreamFilters()) {
          f.install(up, down);
        }
        up.pipeline().addLast(new Relay(down, session));
      }
    };
  }

  /**
   * A handler that writes what its channel reads to {@code peer}, pausing reads while the peer
   * cannot take more, and closes the peer when its channel closes. Two of them, one on each side,
   * make a byte relay (TCP proxying, upgraded HTTP connections).
   */
  public static io.netty.channel.ChannelHandler relayTo(Channel peer) {
    return new Relay(peer, null);
  }

  private static final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel down;
    private final @Nullable TcpSession session; // the TCP proxy's: counts the bytes sent down

    Relay(Channel down, @Nullable TcpSession session) {
      this.down = down;
      this.session = session;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof io.netty.buffer.ByteBuf)) {
        // e.g. the empty last content an HTTP codec emits right after a 101 it was removed on
        ReferenceCountUtil.release(msg);
        return;
      }
      TcpSession s = session;
      if (s != null) {
        s.bytesSent += ((io.netty.buffer.ByteBuf) msg).readableBytes();
      }
      down.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
      if (!down.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      down.config().setAutoRead(ctx.channel().isWritable());
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      down.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
