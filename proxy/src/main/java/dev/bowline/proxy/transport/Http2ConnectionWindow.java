package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;

/**
 * Raises an HTTP/2 connection's receive window from the protocol's 65,535 bytes to {@code size}
 * with a WINDOW_UPDATE on stream 0 as the connection opens, as Envoy applies {@code
 * http2_protocol_options.initial_connection_window_size} (the SETTINGS frame can only set the
 * stream window): on a server connection right after the codec's SETTINGS; on a client connection
 * when it becomes active (before any stream: the pool waits for the peer's SETTINGS). Goes right
 * after Netty's {@code Http2FrameCodec}, which turns the frame into a connection window increase;
 * removes itself once done.
 */
public final class Http2ConnectionWindow extends ChannelInboundHandlerAdapter {
  /** HTTP/2's initial window (RFC 9113 6.9.2). */
  static final int PROTOCOL_DEFAULT = 65_535;

  private final int size;
  private boolean raised;

  /**
   * Netty's client frame codec announcing {@code streamWindow} in its SETTINGS and leaving the
   * connection window to an {@link Http2ConnectionWindow} after it: Netty's codec would otherwise
   * raise the connection window by twice what the stream window adds, where Envoy sets it to {@code
   * initial_connection_window_size}. It refuses server push, as Envoy's client codec does. A
   * response header list over {@code maxHeaderListBytes} (the cluster's {@code
   * max_response_headers_kb}, Envoy's HTTP/2 default 60 KiB; Netty's own would be 8 KiB) or with
   * more fields than {@code maxHeaders} (the cluster's {@code max_headers_count}, pseudo-headers
   * included as Envoy's header map counts them) is a stream error caused by a {@link
   * HeaderOverflow}.
   */
  public static io.netty.handler.codec.http2.Http2FrameCodec clientCodec(
      int streamWindow, int maxHeaderListBytes, int maxHeaders) {
    var b = new ClientCodecBuilder(streamWindow, maxHeaders);
    b.initialSettings().maxHeaderListSize(maxHeaderListBytes);
    return b.build();
  }

  /**
   * A response header block (head, interim head or trailers) of an upstream HTTP/2 stream over the
   * cluster's {@code max_headers_count}: the cause of the stream error (INTERNAL_ERROR) the client
   * codec's decoder raises before the block reaches the stream, handed to the stream's channel as
   * its exception (Netty's frame codec writes no RST_STREAM for it: the stream resets itself).
   */
  public static final class HeaderOverflow extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HeaderOverflow(int count, int max) {
      super(
          "response header block of " + count + " fields is over max_headers_count " + max,
          null,
          false,
          false);
    }

    /** Whether {@code cause} (a stream's exception) is a {@link HeaderOverflow}'s stream error. */
    public static boolean of(Throwable cause) {
      var h2 = io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause);
      return h2 != null && h2.getCause() instanceof HeaderOverflow;
    }
  }

  private static final class ClientCodecBuilder
      extends io.netty.handler.codec.http2.Http2FrameCodecBuilder {
    private final int streamWindow;
    private final int maxHeaders;

    ClientCodecBuilder(int streamWindow, int maxHeaders) {
      this.streamWindow = streamWindow;
      this.maxHeaders = maxHeaders;
      server(false);
    }

    @Override
    protected io.netty.handler.codec.http2.Http2FrameCodec build(
        io.netty.handler.codec.http2.Http2ConnectionDecoder decoder,
        io.netty.handler.codec.http2.Http2ConnectionEncoder encoder,
        io.netty.handler.codec.http2.Http2Settings settings) {
      // the codec reads the stream window for its own expansion when made, and keeps the object
      // for its preface: the window goes in after
      settings.remove(io.netty.handler.codec.http2.Http2CodecUtil.SETTINGS_INITIAL_WINDOW_SIZE);
      var codec =
          new io.netty.handler.codec.http2.Http2FrameCodec(
              encoder,
              new HeaderCount(decoder, maxHeaders),
              settings,
              decoupleCloseAndGoAway(),
              flushPreface()) {};
      settings.initialWindowSize(streamWindow);
      // No server push, as Envoy's client codec (SETTINGS_ENABLE_PUSH 0): a PUSH_PROMISE is a
      // connection error (GOAWAY PROTOCOL_ERROR) at once, not only once the server acknowledged
      // the SETTINGS. With push allowed, a frame Netty's multiplexer does not know (an unknown
      // type) on a promised stream, which has no stream channel, threw a NullPointerException in
      // Http2MultiplexHandler.channelRead (found by Http2UpstreamFuzzTest).
      settings.pushEnabled(false);
      decoder.connection().local().allowPushTo(false);
      decoder.connection().remote().allowPushTo(false);
      return codec;
    }
  }

  /**
   * Counts the fields of each HEADERS block the peer sends, as Envoy's HTTP/2 codec does in {@code
   * saveHeader} against {@code max_headers_count}: a block with more is a stream error caused by a
   * {@link HeaderOverflow} and does not reach the stream.
   */
  private static final class HeaderCount
      extends io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder {
    private final int max;

    HeaderCount(io.netty.handler.codec.http2.Http2ConnectionDecoder decoder, int max) {
      super(decoder);
      this.max = max;
    }

    @Override
    public void frameListener(io.netty.handler.codec.http2.Http2FrameListener listener) {
      super.frameListener(
          new Http2HeadersCheck(
              listener,
              (ctx, streamId, headers) -> {
                check(streamId, headers);
                return true;
              }));
    }

    private void check(int streamId, io.netty.handler.codec.http2.Http2Headers headers)
        throws io.netty.handler.codec.http2.Http2Exception {
      if (headers.size() > max) {
        var overflow = new HeaderOverflow(headers.size(), max);
        throw io.netty.handler.codec.http2.Http2Exception.streamError(
            streamId,
            io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR,
            overflow,
            "%s",
            overflow.getMessage());
      }
    }
  }

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
