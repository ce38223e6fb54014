package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TransportTest {

  @Test
  @EnabledOnOs(OS.LINUX)
  void detectsEpollOnLinux() {
    assertThat(Transport.detect()).isEqualTo(Transport.EPOLL);
    assertThat(Transport.select("auto")).isEqualTo(Transport.EPOLL);
  }

  @Test
  void rejectsUnknownTransportNamingTheChoices() {
    assertThatThrownBy(() -> Transport.select("kqueue"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown transport 'kqueue': expected one of auto, io_uring, epoll, nio");
  }

  /** Every transport that loads here carries bytes both ways over a real loopback socket. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void echoesOverLoopback(Transport transport) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        transport.isAvailable(), () -> transport + ": " + transport.unavailabilityCause());
    MultiThreadIoEventLoopGroup group = transport.newEventLoopGroup(1);
    try {
      Channel server =
          new ServerBootstrap()
              .group(group)
              .channel(transport.serverChannelClass())
              .childHandler(
                  new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                      ctx.writeAndFlush(msg);
                    }
                  })
              .bind(new InetSocketAddress("127.0.0.1", 0))
              .sync()
              .channel();
      CompletableFuture<String> echoed = new CompletableFuture<>();
      Channel client =
          new Bootstrap()
              .group(group)
              .channel(transport.socketChannelClass())
              .handler(
                  new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                      ByteBuf buf = (ByteBuf) msg;
                      echoed.complete(buf.toString(StandardCharsets.US_ASCII));
                      buf.release();
                    }
                  })
              .connect(server.localAddress())
              .sync()
              .channel();
      client.writeAndFlush(Unpooled.copiedBuffer("ping " + transport, StandardCharsets.US_ASCII));
      assertThat(echoed.get(5, TimeUnit.SECONDS)).isEqualTo("ping " + transport);
      client.close().sync();
      server.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
