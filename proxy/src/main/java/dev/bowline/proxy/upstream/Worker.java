package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.stats.ClusterStats;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Everything upstream that belongs to one event loop: per-cluster hosts and load-balancer state,
 * pooled HTTP/1.1 connections. Every method must be called on {@link #loop()}.
 */
public final class Worker {
  private final EventLoop loop;
  private final Transport transport;
  private final RandomGenerator random;
  private final Stats stats;
  private final Map<String, ClusterHosts> clusters = new HashMap<>();

  public Worker(EventLoop loop, Transport transport, RandomGenerator random, Stats stats) {
    this.loop = loop;
    this.transport = transport;
    this.random = random;
    this.stats = stats;
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
    void acquired(UpstreamConnection connection);

    void failed(String reason);
  }

  /** The cluster's state on this loop, refreshed if the cluster or its endpoints changed. */
  private ClusterHosts hosts(ClusterConfig cluster, Endpoints endpoints) {
    ClusterHosts h = clusters.get(cluster.name());
    if (h == null || h.config != cluster || h.endpoints != endpoints) {
      h = new ClusterHosts(cluster, endpoints, h, stats.cluster(cluster.name()));
      clusters.put(cluster.name(), h);
    }
    return h;
  }

  /** The cluster's stats. */
  public ClusterStats clusterStats(ClusterConfig cluster) {
    ClusterHosts h = clusters.get(cluster.name());
    return h != null ? h.stats : stats.cluster(cluster.name());
  }

  /**
   * Picks a host of {@code cluster} by its load balancer and gets an HTTP/1.1 connection to it,
   * pooled or new. Returns false without calling back when the cluster has no host.
   */
  public boolean acquire(
      ClusterConfig cluster, Endpoints endpoints, ResponseListener listener, AcquireCallback cb) {
    ClusterHosts ch = hosts(cluster, endpoints);
    Host host = ch.pick(random);
    if (host == null) {
      return false;
    }
    Channel pooled;
    while ((pooled = host.idle.pollLast()) != null) {
      if (pooled.isActive()) {
        UpstreamConnection uc = UpstreamConnection.of(pooled);
        uc.bind(listener);
        cb.acquired(uc);
        return true;
      }
    }
    ch.stats.upstreamCxTotal().inc();
    ChannelFuture f =
        connect(
            host,
            ch,
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel c) {
                c.pipeline().addLast(new HttpClientCodec(4096, 65536, 65536));
                c.pipeline().addLast(new UpstreamConnection(Worker.this, host, ch, c));
              }
            });
    f.addListener(
        (ChannelFuture done) -> {
          if (done.isSuccess()) {
            UpstreamConnection uc = UpstreamConnection.of(done.channel());
            uc.bind(listener);
            cb.acquired(uc);
          } else {
            ch.stats.upstreamCxConnectFail().inc();
            cb.failed("connection failure");
          }
        });
    return true;
  }

  /**
   * Picks a host and opens a fresh connection to it with {@code handler} (for TCP proxying); null
   * when the cluster has no host.
   */
  public @Nullable ChannelFuture connectRaw(
      ClusterConfig cluster, Endpoints endpoints, ChannelHandler handler) {
    ClusterHosts ch = hosts(cluster, endpoints);
    Host host = ch.pick(random);
    if (host == null) {
      return null;
    }
    ch.stats.upstreamCxTotal().inc();
    ChannelFuture f = connect(host, ch, handler);
    f.addListener(
        done -> {
          if (!done.isSuccess()) {
            ch.stats.upstreamCxConnectFail().inc();
          }
        });
    return f;
  }

  private ChannelFuture connect(Host host, ClusterHosts ch, ChannelHandler handler) {
    return new Bootstrap()
        .group(loop)
        .channel(transport.socketChannelClass())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(
            ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, ch.config.connectTimeout().toMillis()))
        .handler(handler)
        .connect(host.address.toInet());
  }

  void release(Host host, ClusterHosts cluster, Channel channel) {
    ClusterHosts current = clusters.get(cluster.config.name());
    if (current == null || !containsHost(current, host)) {
      channel.close(); // the host left the cluster while the request ran
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

  /** Forgets clusters that are gone from the config; closes their idle connections. */
  public void retain(java.util.Set<String> clusterNames) {
    var it = clusters.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!clusterNames.contains(e.getKey())) {
        e.getValue().closeAll();
        it.remove();
      }
    }
  }
}
