package dev.bowline.proxy.transport;

import org.jspecify.annotations.Nullable;

/**
 * The {@code :scheme} of the request on an HTTP/2 stream, held by the handler at the end of the
 * stream's pipeline so that no header has to carry it. Downstream, {@link Http2ServerStreamCodec}
 * tells the stream's handler what the client sent (Netty's conversion would put it in an {@code
 * x-http2-scheme} header that filters and access logs could see); upstream, {@link
 * Http2ClientStreamCodec} asks the stream's handler which scheme to send (null: Netty's, the
 * connection's own transport). Event loop only.
 */
public interface RequestScheme {
  /** Sets the scheme of the stream's request (null: none). */
  void requestScheme(@Nullable CharSequence scheme);

  /** The scheme of the stream's request, or null. */
  @Nullable CharSequence requestScheme();
}
