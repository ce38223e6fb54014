package dev.bowline.cli.traffic;

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
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A backend that speaks HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port, answering
 * {@code <name> HTTP/2} or {@code <name> HTTP/1.1}: which protocol the proxy used upstream.
 */
final class H2Backend implements AutoCloseable {
  private final String name;
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;

  H2Backend(String name, String ip) {
    this.name = name;
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new Sniff());
                  }
                })
            .bind(new InetSocketAddress(ip, 0))
            .syncUninterruptibly()
            .channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The HTTP/2 connection preface picks the HTTP/2 pipeline; anything else is HTTP/1.1. */
  private final class Sniff extends ByteToMessageDecoder {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
      int n = Math.min(in.readableBytes(), preface.readableBytes());
      boolean h2 = in.slice(in.readerIndex(), n).equals(preface.slice(0, n));
      preface.release();
      if (h2 && n < 24) {
        return; // wait for the whole preface
      }
      if (h2) {
        ctx.pipeline()
            .addAfter(ctx.name(), "h2", Http2FrameCodecBuilder.forServer().build())
            .addAfter("h2", "h2-handler", new H2Handler());
      } else {
        ctx.pipeline()
            .addAfter(ctx.name(), "h1", new HttpServerCodec())
            .addAfter("h1", "h1-agg", new HttpObjectAggregator(1 << 16))
            .addAfter("h1-agg", "h1-handler", new H1Handler());
      }
      ctx.pipeline().remove(this);
    }
  }

  private final class H2Handler extends SimpleChannelInboundHandler<Object> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
        ctx.write(
            new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"))
                .stream(h.stream()));
        ctx.writeAndFlush(
            new DefaultHttp2DataFrame(
                    Unpooled.copiedBuffer(name + " HTTP/2", StandardCharsets.UTF_8), true)
                .stream(h.stream()));
      } else if (msg instanceof io.netty.handler.codec.http2.Http2DataFrame d && d.isEndStream()) {
        ctx.write(
            new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"))
                .stream(d.stream()));
        ctx.writeAndFlush(
            new DefaultHttp2DataFrame(
                    Unpooled.copiedBuffer(name + " HTTP/2", StandardCharsets.UTF_8), true)
                .stream(d.stream()));
      }
    }
  }

  private final class H1Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      var resp =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              Unpooled.copiedBuffer(name + " HTTP/1.1", StandardCharsets.UTF_8));
      resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
      ctx.writeAndFlush(resp);
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }
}
