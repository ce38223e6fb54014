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
 * closing sends END_STREAM, its reset RST_STREAM CONNECT_ERROR). Reading pauses on whichever side
 * the other cannot keep up with. Over HTTP/1.1 the whole connection is the tunnel and {@link
 * dev.bowline.proxy.tcp.TcpProxy#relayTo} serves both ways.
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
        if (failed) {
          resetConnectError(stream); // the upstream connection broke (Envoy: UC, CONNECT_ERROR)
        } else if (stream.isActive()) {
          stream.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT); // END_STREAM
        }
      }

      // the upstream connection ended in an error (a reset, a failed read), not a FIN
      private boolean failed;

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failed = true;
        ctx.close();
      }
    };
  }

  /**
   * Counts one side of {@code stream}'s tunnel and ends the stream when that side closes, placed
   * just before the side's relay. Envoy's connection manager keeps a CONNECT stream open until the
   * tunnel ends and counts its payload as body bytes ({@code %BYTES_RECEIVED%} from the client,
   * {@code %BYTES_SENT%} to it); an upstream connection that ends in an error is {@code UC} (its
   * TCP upstream resets the stream with {@code ConnectionTermination}); a FIN ends it cleanly. The
   * client's side ending first is a reset of the stream: the client's RST_STREAM is {@code DR}
   * (Envoy's codec reports a remote reset), the downstream connection closing or reset (HTTP/1.1,
   * or the HTTP/2 connection under the stream) {@code DC} (Envoy's connection manager resets every
   * stream of a connection that closed, and marks them {@code DownstreamConnectionTermination}).
   */
  static ChannelHandler meter(HttpStream stream, boolean upstream) {
    return new ChannelInboundHandlerAdapter() {
      private boolean failed;
      // the client's RST_STREAM code (HTTP/2), -1 for none
      private long reset = -1;

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b =
            msg instanceof ByteBuf bb ? bb : msg instanceof HttpContent c ? c.content() : null;
        if (b != null) {
          stream.tunnelBytes(upstream, b.readableBytes());
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame r) {
          reset = r.errorCode(); // Netty's multiplexer closes the stream's channel right after
        }
        ctx.fireUserEventTriggered(evt);
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failed = true;
        ctx.fireExceptionCaught(cause);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        // the first side to close ends the stream
        if (upstream) {
          stream.tunnelEnded(failed);
        } else if (reset >= 0) {
          stream.tunnelResetByClient(
              dev.bowline.proxy.http.filter.ResponseFlag.DR,
              HttpConnection.remoteResetDetails(reset));
        } else {
          stream.tunnelResetByClient(
              dev.bowline.proxy.http.filter.ResponseFlag.DC, "downstream_remote_disconnect");
        }
        ctx.fireChannelInactive();
      }
    };
  }

  /**
   * RST_STREAM CONNECT_ERROR on HTTP/2 stream {@code stream}, if it is still open: the TCP
   * connection of its CONNECT failed or was reset (RFC 9113 8.5), as Envoy's connection manager
   * resets a CONNECT stream whose flags hold {@code UF} or {@code UC} ({@code doEndStream}).
   */
  static void resetConnectError(Channel stream) {
    if (stream.isActive()) {
      stream.writeAndFlush(
          new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
              io.netty.handler.codec.http2.Http2Error.CONNECT_ERROR),
          stream.voidPromise());
    }
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
