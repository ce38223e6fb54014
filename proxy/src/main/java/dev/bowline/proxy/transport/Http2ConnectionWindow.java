package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;

/**
 * Raises an HTTP/2 connection's receive window from the protocol's 65,535 bytes to {@code size}
 * with a WINDOW_UPDATE on stream 0 right after the codec's preface, as Envoy applies {@code
 * http2_protocol_options.initial_connection_window_size} (the SETTINGS frame can only set the
 * stream window). Goes right after Netty's {@code Http2FrameCodec}, which turns the frame into a
 * connection window increase; removes itself once done.
 */
public final class Http2ConnectionWindow extends ChannelInboundHandlerAdapter {
  /** HTTP/2's initial window (RFC 9113 6.9.2). */
  static final int PROTOCOL_DEFAULT = 65_535;

  private final int size;
  private boolean raised;

  /** A handler raising the connection window to {@code size} bytes. */
  public Http2ConnectionWindow(int size) {
    this.size = size;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      raise(ctx); // the codec before this handler sent its preface when it was added
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.fireChannelActive(); // the codec (before this handler) has sent its preface by now
    raise(ctx);
  }

  private void raise(ChannelHandlerContext ctx) {
    if (raised) {
      return;
    }
    raised = true;
    if (size > PROTOCOL_DEFAULT) {
      ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(size - PROTOCOL_DEFAULT));
    }
    ctx.pipeline().remove(this);
  }
}
