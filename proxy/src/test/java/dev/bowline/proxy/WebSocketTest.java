package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** WebSocket upgrade through the connection manager (upgrade_configs: websocket). */
class WebSocketTest {
  static final String IP = "127.0.6.60";
  static MultiThreadIoEventLoopGroup group;
  static Channel echo;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    echo =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(65536))
                        .addLast(new WebSocketServerProtocolHandler("/ws"))
                        .addLast(
                            new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                              @Override
                              protected void channelRead0(
                                  ChannelHandlerContext ctx, TextWebSocketFrame f) {
                                ctx.writeAndFlush(new TextWebSocketFrame("echo: " + f.text()));
                              }
                            });
                  }
                })
            .bind("127.0.6.61", 0)
            .sync()
            .channel();
    int echoPort = ((java.net.InetSocketAddress) echo.localAddress()).getPort();
    SocketProxy socket =
        SocketProxy.on(IP)
            .http("ws", "upgrade_configs: [{upgrade_type: websocket}]", SocketProxy.to("/", "echo"))
            .cluster("echo", "127.0.6.61", echoPort)
            .start();
    proxy = socket.proxy;
    port = socket.port("ws");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    echo.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  @Test
  void messagesFlowBothWaysAfterTheUpgrade() throws Exception {
    long early = stat("http.ws.downstream_rq_response_before_rq_complete");
    LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://" + IP + ":" + port + "/ws"),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    received.add(data.toString());
                    w.request(1);
                    return CompletableFuture.completedFuture(null);
                  }
                })
            .get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
      assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello " + i);
    }
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    // Envoy's HTTP/1 codec never sees an upgrade request end: its 101 comes before it completed
    assertThat(stat("http.ws.downstream_rq_response_before_rq_complete")).isEqualTo(early + 1);
  }

  @Test
  void aRefusedUpgradeEndsTheConnection() throws Exception {
    long early = stat("http.ws.downstream_rq_response_before_rq_complete");
    try (java.net.Socket s = new java.net.Socket(IP, port)) {
      s.setSoTimeout(5000);
      // an upgrade upgrade_configs does not enable: Envoy's 403, and since the codec went into
      // upgrade mode at the head, the connection ends (whatever follows is no HTTP request)
      s.getOutputStream()
          .write(
              ("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: spdy/3\r\n\r\n"
                      + "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      String reply =
          new String(
              s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(reply).startsWith("HTTP/1.1 403 Forbidden\r\n").contains("connection: close");
      assertThat(reply.indexOf("HTTP/1.1", 1))
          .as("the pipelined request is not answered: %s", reply)
          .isNegative();
    }
    assertThat(stat("http.ws.downstream_rq_response_before_rq_complete")).isEqualTo(early + 1);
  }
}
