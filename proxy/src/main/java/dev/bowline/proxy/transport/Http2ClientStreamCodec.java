package dev.bowline.proxy.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.List;

/**
 * The first handler of every upstream HTTP/2 stream: Netty's {@link
 * Http2StreamFrameToHttpObjectCodec} for a client, except that a response head whose {@code
 * :status} is not three digits (or is {@code 101}, which HTTP/2 forbids), or that has none but a
 * request's {@code :method}, is refused, and a head that is a whole message (it ends the stream, or
 * is an interim 1xx) is converted here. An interim head that ends the stream is refused too.
 *
 * <p>Netty 4.2.18 converts such a head with {@code HttpConversionUtil.toFullHttpResponse}, which
 * allocates the message's content buffer first and loses it when the conversion then fails (an
 * unparsable {@code :status}, and other heads the upstream fuzz target found): with the pooled
 * allocator every such response leaked 256 bytes of pooled memory for good (found by {@code
 * Http2UpstreamFuzzTest}'s allocation count). Here the head is converted with {@code
 * toHttpResponse} (the same headers, the same validation) into a full response over the shared
 * empty buffer, which also saves that buffer for every headers-only response. A refused head is a
 * stream error (PROTOCOL_ERROR), which {@code H2Stream} answers as Envoy's codec answers an invalid
 * {@code :status}: RST_STREAM, and 502 {@code UPE} for the request. Stateless and shared by the
 * streams of a worker; event loop only.
 */
@ChannelHandler.Sharable
public final class Http2ClientStreamCodec extends Http2StreamFrameToHttpObjectCodec {
  private static final io.netty.util.AsciiString SCHEME =
      HttpConversionUtil.ExtensionHeaderNames.SCHEME.text();

  public Http2ClientStreamCodec() {
    super(false);
  }

  /**
   * Netty's encoding, except that a request's {@code :scheme} is the one the stream's handler holds
   * ({@link RequestScheme}: the downstream request's, Envoy's router), when it holds one, not the
   * connection's own; and that the {@code x-http2-scheme} header Netty puts on the request head to
   * carry its scheme into the conversion is taken off again, so that nothing after (filters, access
   * logs, a retry or redirect to an HTTP/1 upstream) sees it.
   */
  @Override
  protected void encode(
      ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpObject obj, List<Object> out)
      throws Exception {
    if (!(obj instanceof io.netty.handler.codec.http.HttpRequest r)) {
      super.encode(ctx, obj, out);
      return;
    }
    CharSequence scheme =
        ctx.pipeline().last() instanceof RequestScheme s ? s.requestScheme() : null;
    try {
      super.encode(ctx, obj, out);
    } finally {
      r.headers().remove(SCHEME);
    }
    if (scheme != null) {
      for (int i = 0, n = out.size(); i < n; i++) {
        if (out.get(i) instanceof Http2HeadersFrame h && h.headers().method() != null) {
          h.headers().scheme(scheme);
        }
      }
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out)
      throws Exception {
    if (frame instanceof Http2HeadersFrame h) {
      CharSequence status = h.headers().status();
      int id = h.stream() != null ? h.stream().id() : 0;
      if (status != null ? !validStatus(status) : h.headers().method() != null) {
        // (without :status, a block with :method is no trailers either: Netty would make it a full
        // response and fail on the missing status, the content buffer lost)
        throw Http2Exception.streamError(
            id, Http2Error.PROTOCOL_ERROR, "invalid :status in a response head: %s", status);
      }
      if (status != null && status.charAt(0) == '1' && h.isEndStream()) {
        // an interim head that ends its stream leaves no room for the final one: a messaging error
        // in Envoy's codec (nghttp2 expects a final response), RST_STREAM and 502 UPE
        throw Http2Exception.streamError(
            id, Http2Error.PROTOCOL_ERROR, "an interim response head ends the stream: %s", status);
      }
      if (status != null && (h.isEndStream() || status.charAt(0) == '1')) {
        // the whole message (a head that ends the stream, or an interim one), as Netty makes it,
        // with no content buffer to lose: the same head, converted and validated by Netty
        HttpResponse head = HttpConversionUtil.toHttpResponse(id, h.headers(), true);
        out.add(
            new DefaultFullHttpResponse(
                head.protocolVersion(),
                head.status(),
                Unpooled.EMPTY_BUFFER,
                head.headers(),
                new DefaultHttpHeaders()));
        return;
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
