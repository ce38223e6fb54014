package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.util.List;

/**
 * The first handler of every upstream HTTP/2 stream: Netty's {@link
 * Http2StreamFrameToHttpObjectCodec} for a client, refusing a response head whose {@code :status}
 * is not three digits (or is {@code 101}, which HTTP/2 forbids) before Netty converts it.
 *
 * <p>Netty 4.2.18's conversion of a head that ends its stream ({@code
 * HttpConversionUtil.toFullHttpResponse}) allocates the response's content buffer before it parses
 * the status, and loses it when the parse fails: with the pooled allocator every such response
 * leaked 256 bytes of pooled memory for good (found by the upstream HTTP/2 fuzz target's allocation
 * count). Refused here, the head is a stream error (PROTOCOL_ERROR), which {@code H2Stream} answers
 * as Envoy's codec answers an invalid {@code :status}: RST_STREAM, and 502 {@code UPE} for the
 * request. Stateless and shared by the streams of a worker; event loop only.
 */
@ChannelHandler.Sharable
public final class Http2ClientStreamCodec extends Http2StreamFrameToHttpObjectCodec {
  public Http2ClientStreamCodec() {
    super(false);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out)
      throws Exception {
    if (frame instanceof Http2HeadersFrame h) {
      CharSequence status = h.headers().status();
      if (status != null && !validStatus(status)) {
        throw Http2Exception.streamError(
            h.stream() != null ? h.stream().id() : 0,
            Http2Error.PROTOCOL_ERROR,
            "invalid :status in a response head: %s",
            status);
      }
    }
    super.decode(ctx, frame, out);
  }

  /** Three digits, the first not 0, and not {@code 101} (RFC 9113 8.3.2, 8.6). */
  static boolean validStatus(CharSequence s) {
    if (s.length() != 3) {
      return false;
    }
    char a = s.charAt(0);
    char b = s.charAt(1);
    char c = s.charAt(2);
    return a >= '1'
        && a <= '9'
        && b >= '0'
        && b <= '9'
        && c >= '0'
        && c <= '9'
        && !(a == '1' && b == '0' && c == '1');
  }
}
