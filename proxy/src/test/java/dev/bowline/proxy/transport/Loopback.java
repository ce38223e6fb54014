package dev.bowline.proxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One NIO event loop and the loopback channels of a transport test on it: a server ({@link #serve})
 * and connections ({@link #connect}), each set up by the test's own handlers, and a handler that
 * sees when {@link IdleTimeout}'s event comes ({@link IdleEvents}).
 */
final class Loopback implements AutoCloseable {
  private final MultiThreadIoEventLoopGroup group = Transport.NIO.newEventLoopGroup(1);

  /** A server on a free loopback port; {@code init} sets up each channel it accepts. */
  Channel serve(Consumer<Channel> init) throws InterruptedException {
    return new ServerBootstrap()
        .group(group)
        .channel(Transport.NIO.serverChannelClass())
        .childHandler(initializer(init))
        .bind(InetAddress.getLoopbackAddress(), 0)
        .sync()
        .channel();
  }

  /** A connection to {@code to}; {@code init} sets it up. */
  Channel connect(SocketAddress to, Consumer<Channel> init) throws InterruptedException {
    return new Bootstrap()
        .group(group)
        .channel(Transport.NIO.socketChannelClass())
        .handler(initializer(init))
        .connect(to)
        .sync()
        .channel();
  }

  private static ChannelInitializer<Channel> initializer(Consumer<Channel> init) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        init.accept(ch);
      }
    };
  }

  /**
   * Records when its channel last read a message (which it drops) and when {@link IdleTimeout}'s
   * event reached it.
   */
  static class IdleEvents extends ChannelInboundHandlerAdapter {
    final CompletableFuture<Long> idleAt = new CompletableFuture<>();
    volatile long lastReadAt;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      lastReadAt = System.nanoTime();
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == IdleStateEvent.ALL_IDLE_STATE_EVENT) {
        idleAt.complete(System.nanoTime());
      }
    }
  }

  /** A blocking client socket connected to {@code server}, reads timing out after 30 s. */
  static java.net.Socket socket(Channel server) throws java.io.IOException {
    java.net.Socket s = new java.net.Socket();
    int port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
    s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
    s.setSoTimeout(30_000);
    return s;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
