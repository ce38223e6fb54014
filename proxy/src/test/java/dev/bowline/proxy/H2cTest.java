package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 with prior knowledge (h2c) downstream, many streams on one connection, to HTTP/1.1
 * upstream.
 */
class H2cTest {
  static final String IP = "127.0.6.30";
  static Backend backend;
  static Proxy proxy;
  static int port;
  static MultiThreadIoEventLoopGroup clientGroup;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.6.31");
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  codec_type: AUTO
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}
          clusters:
          - name: a
            load_assignment:
              cluster_name: a
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, port, backend.ip(), backend.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("h2.yaml", yaml), ProxyOptions.defaults().withWorkers(1));
    clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stop() {
    clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    proxy.close();
    backend.close();
  }

  @Test
  void manyStreamsOnOneH2cConnection() throws Exception {
    Channel conn =
        new Bootstrap()
            .group(clientGroup)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                    ch.pipeline()
                        .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                  }
                })
            .connect(IP, port)
            .sync()
            .channel();
    List<CompletableFuture<String>> replies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      CompletableFuture<String> reply = new CompletableFuture<>();
      replies.add(reply);
      Http2StreamChannel stream =
          new Http2StreamChannelBootstrap(conn)
              .handler(
                  new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                      ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
                      ch.pipeline().addLast(new HttpObjectAggregator(1 << 20));
                      ch.pipeline()
                          .addLast(
                              new SimpleChannelInboundHandler<FullHttpResponse>() {
                                @Override
                                protected void channelRead0(
                                    ChannelHandlerContext ctx, FullHttpResponse r) {
                                  reply.complete(
                                      r.status().code()
                                          + " "
                                          + r.content().toString(StandardCharsets.UTF_8));
                                }
                              });
                    }
                  })
              .open()
              .sync()
              .getNow();
      var req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/h2-" + i);
      req.headers().set("host", "anything.test");
      stream.writeAndFlush(req);
    }
    for (int i = 0; i < 20; i++) {
      assertThat(replies.get(i).get(5, TimeUnit.SECONDS))
          .startsWith("200 backend=a path=/h2-" + i + " host=anything.test");
    }
    conn.close();
  }
}
