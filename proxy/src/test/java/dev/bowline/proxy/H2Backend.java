package dev.bowline.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/2 (prior knowledge) backend on Netty that counts what the proxy does to it: connections
 * opened and closed, requests per connection. It answers {@code 200 backend=<name>} once a request
 * has arrived whole, or holds every answer while {@link #hold} is on, until {@link #release()}. It
 * can announce a {@code SETTINGS_MAX_CONCURRENT_STREAMS}, send a GOAWAY naming a last stream id
 * below streams in flight ({@link #goAway}), or do that by itself on every {@code goAwayEvery}-th
 * request of a connection (that request is left unanswered, so the proxy sees it refused).
 */
final class H2Backend implements AutoCloseable {
  final String name;
  private final EventLoopGroup group;
  private final Channel server;
  private final byte[] body;
  private final int goAwayEvery;

  /** Connections accepted, and closed (by either side). */
  final AtomicInteger connections = new AtomicInteger();

  final AtomicInteger closed = new AtomicInteger();

  /** Requests received whole, answered, and GOAWAYs sent by {@code goAwayEvery}. */
  final AtomicInteger requests = new AtomicInteger();

  final AtomicInteger answered = new AtomicInteger();
  final AtomicInteger goAways = new AtomicInteger();

  private final java.util.Map<Channel, List<Integer>> ids =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<Channel, Integer> lastStreamId =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The head of the last request that arrived (its pseudo-headers included). */
  volatile io.netty.handler.codec.http2.@org.jspecify.annotations.Nullable Http2Headers lastHead;

  /** While true, answers wait for {@link #release()}. */
  volatile boolean hold;

  /** When not negative, each request whole is answered by RST_STREAM with this error code. */
  volatile long resetWith = -1;

  private final List<Channel> parents = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();

  /**
   * @param maxConcurrentStreams announced in SETTINGS when positive
   * @param goAwayEvery when positive, every such request of a connection gets a GOAWAY naming the
   *     stream before it as the last one
   */
  H2Backend(String name, String ip, long maxConcurrentStreams, int goAwayEvery)
      throws InterruptedException {
    this.name = name;
    this.goAwayEvery = goAwayEvery;
    this.body = ("backend=" + name).getBytes(StandardCharsets.US_ASCII);
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Http2Settings settings = Http2Settings.defaultSettings();
    if (maxConcurrentStreams > 0) {
      settings.maxConcurrentStreams(maxConcurrentStreams);
    }
    this.server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.incrementAndGet();
                    parents.add(ch);
                    ch.closeFuture().addListener(f -> closed.incrementAndGet());
                    AtomicInteger perConnection = new AtomicInteger();
                    ch.pipeline()
                        .addLast(
                            Http2FrameCodecBuilder.forServer().initialSettings(settings).build(),
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Http2StreamChannel>() {
                                  @Override
                                  protected void initChannel(Http2StreamChannel s) {
                                    s.pipeline().addLast(new Stream(perConnection));
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress(ip, 0))
            .sync()
            .channel();
  }

  private final class Stream extends SimpleChannelInboundHandler<Http2StreamFrame> {
    private final AtomicInteger perConnection;

    Stream(AtomicInteger perConnection) {
      this.perConnection = perConnection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
      if (frame instanceof Http2HeadersFrame h && h.headers().method() != null) {
        lastHead = h.headers();
      }
      boolean end =
          frame instanceof Http2HeadersFrame h
              ? h.isEndStream()
              : frame instanceof Http2DataFrame d && d.isEndStream();
      if (!end) {
        return;
      }
      Channel parent = ctx.channel().parent();
      int id = ((Http2StreamChannel) ctx.channel()).stream().id();
      if (id > lastStreamId.getOrDefault(parent, Integer.MAX_VALUE)) {
        ctx.close(); // above the GOAWAY's last stream id: not processed
        return;
      }
      requests.incrementAndGet();
      ids.computeIfAbsent(parent, k -> new CopyOnWriteArrayList<>()).add(id);
      int n = perConnection.incrementAndGet();
      if (goAwayEvery > 0 && n % goAwayEvery == 0) {
        goAway(parent, id - 2);
        goAways.incrementAndGet();
        ctx.close(); // above the last stream id: never answered
        return;
      }
      if (resetWith >= 0) {
        ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(resetWith));
        return;
      }
      if (hold) {
        held.add(ctx);
      } else {
        answer(ctx);
      }
    }
  }

  private void answer(ChannelHandlerContext ctx) {
    int id = ((Http2StreamChannel) ctx.channel()).stream().id();
    if (id > lastStreamId.getOrDefault(ctx.channel().parent(), Integer.MAX_VALUE)) {
      ctx.close(); // left out by a GOAWAY since it arrived
      return;
    }
    ctx.write(
        new DefaultHttp2HeadersFrame(
            new DefaultHttp2Headers().status("200").set("content-type", "text/plain")));
    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true))
        .addListener(
            f -> {
              if (f.isSuccess()) {
                answered.incrementAndGet();
              }
            });
  }

  /** The stream ids of the requests received on connection number {@code index}, ascending. */
  List<Integer> streamIds(int index) {
    return ids.getOrDefault(parents.get(index), List.of()).stream().sorted().toList();
  }

  /** Requests being held. */
  int held() {
    return held.size();
  }

  /** Answers every held request (those whose stream is gone are dropped). */
  void release() {
    ChannelHandlerContext ctx;
    while ((ctx = held.poll()) != null) {
      ChannelHandlerContext c = ctx;
      c.executor().execute(() -> answer(c));
    }
  }

  /**
   * Sends GOAWAY NO_ERROR with {@code lastStreamId} on connection number {@code index} (0-based).
   */
  void goAway(int index, int lastStreamId) throws Exception {
    Channel parent = parents.get(index);
    parent.eventLoop().submit(() -> goAway(parent, lastStreamId)).get(5, TimeUnit.SECONDS);
  }

  /**
   * Writes the GOAWAY frame past Netty's codec, and from then on resets the streams above {@code
   * last} instead of answering them. Netty's own GOAWAY would make its decoder ignore later streams
   * and then take their DATA frames for a connection error (a stream it never created), ending the
   * connection, which a real server does not do.
   */
  private void goAway(Channel parent, int last) {
    lastStreamId.put(parent, last);
    ChannelHandlerContext ctx = parent.pipeline().context(Http2FrameCodec.class);
    ctx.writeAndFlush(
        Unpooled.buffer(17)
            .writeMedium(8)
            .writeByte(7) // GOAWAY
            .writeByte(0)
            .writeInt(0)
            .writeInt(last)
            .writeInt((int) Http2Error.NO_ERROR.code()));
  }

  String ip() {
    return ((InetSocketAddress) server.localAddress()).getAddress().getHostAddress();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The cluster endpoint for this backend, as bootstrap YAML. */
  String endpoint() {
    return "{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}"
        .formatted(ip(), port());
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
