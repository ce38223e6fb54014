package dev.bowline.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A cheap HTTP/1.1 keep-alive backend on Netty for load tests (the JDK server costs more CPU than
 * the proxy under test): answers every request {@code 200 backend=<name>} once the request has
 * arrived whole.
 */
final class NettyBackend implements AutoCloseable {
  final String name;
  private final EventLoopGroup group;
  private final Channel server;
  private final byte[] body;

  /** Connections accepted so far. */
  final java.util.concurrent.atomic.AtomicInteger connections =
      new java.util.concurrent.atomic.AtomicInteger();

  NettyBackend(String name, String ip) throws InterruptedException {
    this.name = name;
    this.body = ("backend=" + name).getBytes(StandardCharsets.US_ASCII);
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.incrementAndGet();
                    ch.pipeline().addLast(new HttpServerCodec(), new Handler());
                  }
                })
            .bind(new InetSocketAddress(ip, 0))
            .sync()
            .channel();
  }

  private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
    private boolean keepAlive = true;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest req) {
        keepAlive = HttpUtil.isKeepAlive(req);
      }
      if (msg instanceof LastHttpContent) {
        ByteBuf b = Unpooled.wrappedBuffer(body);
        var resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, b);
        resp.headers()
            .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
            .set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        if (keepAlive) {
          ctx.writeAndFlush(resp);
        } else {
          ctx.writeAndFlush(resp).addListener(f -> ctx.close());
        }
      }
    }
  }

  String ip() {
    return ((InetSocketAddress) server.localAddress()).getAddress().getHostAddress();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
