package dev.bowline.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Netty's HTTP/2 client (prior knowledge, one event loop), for the socket tests that need a real
 * client rather than raw frames ({@link RawH2}): connections whose streams are child channels,
 * streams that speak HTTP/1 objects ({@link #exchange}), and uploads frame by frame ({@link
 * #upload}).
 */
final class H2Client implements AutoCloseable {
  private final MultiThreadIoEventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  /**
   * A connection to {@code ip:port}; {@code handlers} follow the codec and see the frames of the
   * connection itself (GOAWAY, PING).
   */
  Channel connect(String ip, int port, ChannelHandler... handlers) throws InterruptedException {
    return new Bootstrap()
        .group(group)
        .channel(NioSocketChannel.class)
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                ch.pipeline()
                    .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                ch.pipeline().addLast(handlers);
              }
            })
        .connect(ip, port)
        .sync()
        .channel();
  }

  /**
   * A new stream on {@code conn} that takes an HTTP/1 request (head, contents) and completes {@code
   * answer} with its whole response as {@code "<status> <body>"}.
   */
  static Http2StreamChannel exchange(Channel conn, CompletableFuture<String> answer)
      throws InterruptedException {
    return new Http2StreamChannelBootstrap(conn)
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
                            answer.complete(
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
  }

  /** What happened to one stream of {@link #upload}: -1 for a stream or reset code it never had. */
  record Outcome(int stream, String status, String body, long resetCode, boolean ended) {}

  /**
   * A POST of {@code pieces} DATA frames of {@code piece} on a new stream of {@code conn}, {@code
   * everyMillis} apart (0: HEADERS and all DATA in one flush); completes with what came back.
   */
  static CompletableFuture<Outcome> upload(
      Channel conn, String path, String piece, int pieces, long everyMillis) {
    CompletableFuture<Outcome> result = new CompletableFuture<>();
    StringBuilder body = new StringBuilder();
    String[] status = {""};
    long[] reset = {-1};
    boolean[] ended = {false};
    new Http2StreamChannelBootstrap(conn)
        .handler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame h) {
                  if (h.headers().status() != null) {
                    status[0] = h.headers().status().toString();
                  }
                  ended[0] |= h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                  body.append(d.content().toString(StandardCharsets.UTF_8));
                  ended[0] |= d.isEndStream();
                }
                ReferenceCountUtil.release(msg);
              }

              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof Http2ResetFrame r) {
                  reset[0] = r.errorCode();
                }
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                int id = ((Http2StreamChannel) ctx.channel()).stream().id();
                result.complete(new Outcome(id, status[0], body.toString(), reset[0], ended[0]));
              }
            })
        .open()
        .addListener(
            opened -> {
              if (!opened.isSuccess()) {
                result.complete(new Outcome(-1, "", "", -1, false));
                return;
              }
              Http2StreamChannel s = (Http2StreamChannel) opened.getNow();
              s.write(new DefaultHttp2HeadersFrame(RawH2.request("POST", path)));
              send(s, piece, pieces, everyMillis);
            });
    return result;
  }

  private static void send(Http2StreamChannel s, String piece, int left, long everyMillis) {
    if (!s.isActive()) {
      return;
    }
    s.write(
        new DefaultHttp2DataFrame(Unpooled.copiedBuffer(piece, StandardCharsets.UTF_8), left == 1));
    if (left == 1) {
      s.flush();
    } else if (everyMillis == 0) {
      send(s, piece, left - 1, 0);
    } else {
      s.flush();
      s.eventLoop()
          .schedule(
              () -> send(s, piece, left - 1, everyMillis), everyMillis, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
