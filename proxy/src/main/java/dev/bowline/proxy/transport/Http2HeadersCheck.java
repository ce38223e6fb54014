package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A check each HEADERS block the peer sends passes before Netty's frame listener (and so the
 * stream) sees it: both {@code onHeadersRead} overloads, with or without priority, run it first.
 * The upstream codec counts fields against {@code max_headers_count} ({@code
 * Http2ConnectionWindow}); the downstream connection manager stops at premature resets and header
 * overflow ({@code HttpConnectionManager}). Subclass it to decorate other frames too.
 */
public class Http2HeadersCheck extends Http2FrameListenerDecorator {
  /** What a HEADERS block must pass. */
  @FunctionalInterface
  public interface Check {
    /**
     * True to pass the block on; false to drop it (the check has answered it, e.g. with a reset);
     * an {@link Http2Exception} for Netty to handle as a stream or connection error.
     */
    boolean admit(ChannelHandlerContext ctx, int streamId, Http2Headers headers)
        throws Http2Exception;
  }

  private final Check check;

  /** {@code listener}, with {@code check} run on every HEADERS block before it. */
  public Http2HeadersCheck(Http2FrameListener listener, Check check) {
    super(listener);
    this.check = check;
  }

  @Override
  public final void onHeadersRead(
      ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endStream)
      throws Http2Exception {
    if (check.admit(ctx, streamId, headers)) {
      super.onHeadersRead(ctx, streamId, headers, padding, endStream);
    }
  }

  @Override
  public final void onHeadersRead(
      ChannelHandlerContext ctx,
      int streamId,
      Http2Headers headers,
      int streamDependency,
      short weight,
      boolean exclusive,
      int padding,
      boolean endStream)
      throws Http2Exception {
    if (check.admit(ctx, streamId, headers)) {
      super.onHeadersRead(
          ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
    }
  }
}
