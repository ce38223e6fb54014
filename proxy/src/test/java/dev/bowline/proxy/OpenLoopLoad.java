package dev.bowline.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * An open-loop HTTP/1.1 load generator: requests are due at a fixed rate whatever the responses do
 * (no coordinated omission: a late request is timed from when it was due). Keep-alive connections,
 * one request at a time on each, opened as needed up to a cap; a response saying {@code connection:
 * close} retires its connection. Every request is accounted for: answered and accepted by the
 * check, answered but rejected, lost on a connection that closed or failed to open, or still
 * unanswered at the end. Everything runs on one event loop, so the counters need no locks.
 */
final class OpenLoopLoad {
  /** Judges a response: {@code null} if good, else what is wrong with it. */
  @FunctionalInterface
  interface Check {
    @Nullable String problem(FullHttpResponse response);
  }

  /** What happened to every request that was due. */
  record Result(
      long due,
      long ok,
      long rejected,
      long lostOnClosedConnection,
      long connectFailures,
      long unanswered,
      double seconds,
      long connectionsOpened,
      long p50Micros,
      long p99Micros,
      long maxMicros,
      List<String> samples) {
    long failures() {
      return rejected + lostOnClosedConnection + connectFailures + unanswered;
    }

    /** Answered requests per second from the first due to the last answer. */
    double achievedRps() {
      return ok / seconds;
    }

    String line() {
      return String.format(
          "due=%d ok=%d failed=%d rejected=%d lost=%d connect=%d unanswered=%d"
              + " seconds=%.2f achieved_rps=%.0f connections=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.1f",
          due,
          ok,
          failures(),
          rejected,
          lostOnClosedConnection,
          connectFailures,
          unanswered,
          seconds,
          achievedRps(),
          connectionsOpened,
          p50Micros / 1000.0,
          p99Micros / 1000.0,
          maxMicros / 1000.0);
    }
  }

  private static final long IDLE_RETIRE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final InetSocketAddress target;
  private final String path;
  private final double perNano;
  private final int maxConnections;
  private final Check check;
  private final MultiThreadIoEventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoop loop = group.next();
  private final Bootstrap bootstrap;

  // state below: touched on `loop` only
  private final ArrayDeque<Conn> idle = new ArrayDeque<>();
  private final ArrayDeque<Long> waiting = new ArrayDeque<>(); // due times of unsent requests
  private final List<Conn> all = new ArrayList<>();
  private final List<String> samples = new ArrayList<>();
  private int connecting;
  private long start;
  private long end;
  private long lastAnswer;
  private long due;
  private long ok;
  private long rejected;
  private long lost;
  private long connectFailures;
  private long opened;
  private int[] latencies = new int[1 << 16];
  private int latencyCount;
  private boolean issuing;
  private @Nullable ScheduledFuture<?> ticker;

  OpenLoopLoad(InetSocketAddress target, String path, int rps, int maxConnections, Check check) {
    this.target = target;
    this.path = path;
    this.perNano = rps / 1e9;
    this.maxConnections = maxConnections;
    this.check = check;
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            new HttpClientCodec(), new HttpObjectAggregator(1 << 16), new Conn(ch));
                  }
                });
  }

  /** Starts issuing requests at the rate. */
  void start() {
    loop.execute(
        () -> {
          start = System.nanoTime();
          issuing = true;
          ticker = loop.scheduleAtFixedRate(this::tick, 0, 1, TimeUnit.MILLISECONDS);
        });
  }

  /**
   * Stops issuing, waits up to {@code graceMillis} for the requests already due, and accounts for
   * every one of them; then closes the client.
   */
  Result stop(long graceMillis) throws Exception {
    loop.submit(
            () -> {
              issuing = false;
              end = System.nanoTime();
            })
        .sync();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    while (System.nanoTime() < deadline && loop.submit(this::outstanding).get() > 0) {
      Thread.sleep(20);
    }
    CompletableFuture<Result> r = new CompletableFuture<>();
    loop.execute(
        () -> {
          if (ticker != null) {
            ticker.cancel(false);
          }
          long unanswered = outstanding();
          int[] l = Arrays.copyOf(latencies, latencyCount);
          Arrays.sort(l);
          r.complete(
              new Result(
                  due,
                  ok,
                  rejected,
                  lost,
                  connectFailures,
                  unanswered,
                  (Math.max(end, lastAnswer) - start) / 1e9,
                  opened,
                  percentile(l, 0.50),
                  percentile(l, 0.99),
                  l.length == 0 ? 0 : l[l.length - 1],
                  List.copyOf(samples)));
          for (Conn c : all) {
            c.ch.close();
          }
        });
    Result result = r.get();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    return result;
  }

  private static long percentile(int[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, sorted.length * p)];
  }

  private long outstanding() {
    return due - ok - rejected - lost - connectFailures;
  }

  private void tick() {
    if (issuing) {
      long now = System.nanoTime();
      long shouldHave = (long) ((now - start) * perNano);
      long dueAt = start + (long) (due / perNano);
      for (; due < shouldHave; due++, dueAt = start + (long) (due / perNano)) {
        waiting.add(dueAt);
      }
    }
    dispatch();
  }

  private void dispatch() {
    long now = System.nanoTime();
    while (!waiting.isEmpty()) {
      Conn c = idle.pollFirst();
      if (c == null) {
        if (all.size() + connecting < maxConnections && connecting < Math.max(1, waiting.size())) {
          connect();
        }
        return;
      }
      if (!c.ch.isActive()) {
        continue;
      }
      if (now - c.idleSince > IDLE_RETIRE_NANOS) {
        c.ch.close(); // a client's idle timeout, shorter than a server's drain
        continue;
      }
      c.send(waiting.poll());
    }
  }

  private void connect() {
    connecting++;
    ChannelFuture f = bootstrap.connect(target);
    f.addListener(
        x -> {
          connecting--;
          if (!f.isSuccess()) {
            // the request that wanted this connection fails with it
            Long lostDue = waiting.poll();
            if (lostDue != null) {
              connectFailures++;
              sample("connect failed: " + f.cause());
            }
            return;
          }
          opened++;
          Conn c = (Conn) f.channel().pipeline().last();
          all.add(c);
          c.idleSince = System.nanoTime();
          idle.addFirst(c);
          dispatch();
        });
  }

  private void sample(String s) {
    if (samples.size() < 20) {
      samples.add(s);
    }
  }

  private void recordLatency(long dueAt) {
    if (latencyCount == latencies.length) {
      latencies = Arrays.copyOf(latencies, latencies.length * 2);
    }
    latencies[latencyCount++] =
        (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - dueAt) / 1000);
  }

  private final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
    final Channel ch;
    long inFlightDue = -1;
    long idleSince;
    long answered;
    final long openedAt = System.nanoTime();

    Conn(Channel ch) {
      this.ch = ch;
    }

    void send(long dueAt) {
      inFlightDue = dueAt;
      var req =
          new DefaultFullHttpRequest(
              HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
      req.headers().set(HttpHeaderNames.HOST, "churn");
      ch.writeAndFlush(req);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
      long dueAt = inFlightDue;
      inFlightDue = -1;
      if (dueAt < 0) {
        rejected++;
        sample("response without a request: " + r.status());
        ctx.close();
        return;
      }
      recordLatency(dueAt);
      lastAnswer = System.nanoTime();
      answered++;
      String problem = r.status().code() == 200 ? check.problem(r) : "status " + r.status();
      if (problem == null) {
        ok++;
      } else {
        rejected++;
        sample(
            problem
                + " headers="
                + r.headers().entries()
                + " body="
                + r.content().toString(java.nio.charset.StandardCharsets.UTF_8));
      }
      if (HttpUtil.isKeepAlive(r)) {
        idleSince = System.nanoTime();
        idle.addFirst(this);
        dispatch();
      } else {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      all.remove(this);
      idle.remove(this);
      if (inFlightDue >= 0) {
        inFlightDue = -1;
        lost++;
        sample(
            "connection closed with a request in flight: answered before="
                + answered
                + " age_ms="
                + (System.nanoTime() - openedAt) / 1_000_000);
      }
      dispatch();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      sample("connection error: " + cause);
      ctx.close();
    }
  }
}
