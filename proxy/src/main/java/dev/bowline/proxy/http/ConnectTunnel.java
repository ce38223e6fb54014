package dev.bowline.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * The two halves of a CONNECT tunnel over one HTTP/2 stream: the stream's DATA (as {@link
 * HttpContent}) goes to the upstream TCP connection as bytes, the upstream's bytes come back as
 * DATA, and either end finishing ends the other (END_STREAM half-closes the upstream, the upstream
 * closing sends END_STREAM). Reading pauses on whichever side the other cannot keep up with. Over
 * HTTP/1.1 the whole connection is the tunnel and {@link dev.bowline.proxy.tcp.TcpProxy#relayTo}
 * serves both ways.
 */
final class ConnectTunnel {
  private ConnectTunnel() {}

  /** On the upstream connection: its bytes go down the stream as DATA. */
  static ChannelHandler upstreamToStream(Channel stream) {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b)) {
          ReferenceCountUtil.release(msg);
          return;
        }
        stream
            .writeAndFlush(new DefaultHttpContent(b))
            .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        if (!stream.isWritable()) {
          ctx.channel().config().setAutoRead(false);
        }
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        stream.config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (stream.isActive()) {
          stream.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT); // END_STREAM
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
      }
    };
  }

  /** On the HTTP/2 stream: its DATA goes to the upstream as bytes. */
  static ChannelHandler streamToUpstream(Channel up) {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpContent c)) {
          ReferenceCountUtil.release(msg);
          return;
        }
        boolean last = c instanceof LastHttpContent;
        if (c.content().isReadable()) {
          up.writeAndFlush(c.content()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        } else {
          c.release();
        }
        if (last && up instanceof DuplexChannel d) {
          d.shutdownOutput(); // the client is done sending; the upstream may still answer
        }
        if (!up.isWritable()) {
          ctx.channel().config().setAutoRead(false);
        }
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        up.config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        up.close();
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
      }
    };
  }
}
