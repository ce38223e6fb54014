package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An upstream response that ends while the HTTP/1 request body is still arriving, as Envoy handles
 * it: the response goes to the client with {@code connection: close}, is counted in {@code
 * downstream_rq_response_before_rq_complete}, and the downstream connection is closed (after the
 * delayed close) instead of being read on; the upstream connection, whose peer still expects the
 * rest of that body, is closed instead of going back to the pool, so the next request gets a fresh
 * one. Raw HTTP/1.1 client, JDK HttpClient, and a Netty backend that answers {@code /early} as soon
 * as the request head arrives.
 */
class EarlyResponseProxyTest {
  static final String IP = "127.0.72.1";

  static EarlyBackend backend;
  static SocketProxy proxy;
  static int port;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = new EarlyBackend("127.0.72.2");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "early", IP, port, "delayed_close_timeout: 0.5s", SocketProxy.to("/", "b"))),
            List.of(SocketProxy.cluster("b", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  @Test
  void anEarlyResponseClosesTheDownstreamConnectionAndRetiresTheUpstreamOne() throws Exception {
    long before = stat("http.early.downstream_rq_response_before_rq_complete");
    long rx = stat("http.early.downstream_rq_rx_reset");
    int connections = backend.connections.get();
    String response;
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              "POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nten bytes."
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      // the proxy answers and then closes: reading to the end returns, it does not time out
      response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
    assertThat(response)
        .startsWith("HTTP/1.1 403 Forbidden\r\n")
        .containsIgnoringCase("\r\nconnection: close\r\n")
        .endsWith("denied");
    assertThat(stat("http.early.downstream_rq_response_before_rq_complete")).isEqualTo(before + 1);
    assertThat(stat("http.early.downstream_rq_rx_reset")).isEqualTo(rx + 1);

    // the backend's connection still expects 99,990 bytes of that body: the next request must not
    // go to it
    HttpResponse<String> next =
        client.send(
            java.net.http.HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/ok"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(next.body()).isEqualTo("ok /ok");
    assertThat(backend.connections.get()).isEqualTo(connections + 2);
  }

  @Test
  void anEarlyHttp2ResponseEndsTheStreamWithResetNoError() throws Exception {
    long rx = stat("http.early.downstream_rq_rx_reset");
    try (RawH2 c = RawH2.open(IP, port)) {
      c.frames(
          (w, ctx) -> {
            w.writeHeaders(
                ctx,
                1,
                new io.netty.handler.codec.http2.DefaultHttp2Headers()
                    .method("POST")
                    .path("/early/h2")
                    .scheme("http")
                    .authority("t"),
                0,
                false,
                ctx.newPromise());
            w.writeData(
                ctx,
                1,
                Unpooled.copiedBuffer("part", StandardCharsets.US_ASCII),
                0,
                false,
                ctx.newPromise());
          });
      RawH2.Frame head = c.readUntil(RawH2.HEADERS);
      assertThat(head).isNotNull();
      assertThat(head.headers().status().toString()).isEqualTo("403");
      RawH2.Frame body = c.readUntil(RawH2.DATA);
      assertThat(body).isNotNull();
      assertThat(new String(body.payload(), StandardCharsets.US_ASCII)).isEqualTo("denied");
      assertThat(body.endStream()).isTrue(); // the whole response first
      RawH2.Frame reset = c.readUntil(RawH2.RST_STREAM);
      assertThat(reset).isNotNull();
      assertThat(reset.stream()).isEqualTo(1);
      assertThat(reset.errorCode()).isZero(); // NO_ERROR: stop sending, the response is whole
    }
    assertThat(stat("http.early.downstream_rq_rx_reset")).isEqualTo(rx + 1);
  }

  /**
   * Answers {@code /early} with 403 as soon as the request head arrives (reading on, as a server
   * that does not want the body does); anything else with 200 once the request is whole. Counts
   * connections.
   */
  static final class EarlyBackend implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    private final EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    EarlyBackend(String ip) throws InterruptedException {
      server =
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

    private static final class Handler extends SimpleChannelInboundHandler<HttpObject> {
      private String path = "";

      @Override
      protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
        if (msg instanceof HttpRequest r) {
          path = r.uri();
          if (path.startsWith("/early")) {
            answer(ctx, HttpResponseStatus.FORBIDDEN, "denied");
          }
        }
        if (msg instanceof LastHttpContent && !path.startsWith("/early")) {
          answer(ctx, HttpResponseStatus.OK, "ok " + path);
        }
      }

      private static void answer(
          ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
        var resp =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                status,
                Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
        resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length());
        ctx.writeAndFlush(resp);
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
}
