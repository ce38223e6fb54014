package dev.bowline.proxy.http;

import io.netty.handler.codec.http2.DefaultHttp2Connection;

/**
 * A downstream HTTP/2 connection's stream bookkeeping that remembers the streams it refused.
 *
 * <p>Netty refuses a client stream (RST_STREAM REFUSED_STREAM) when its HEADERS come past the last
 * stream id of a GOAWAY we sent, or past {@code max_concurrent_streams}, before the stream counts
 * as created. A DATA frame the client had already sent on that stream then names a stream that
 * "never existed", which Netty takes for a connection error (GOAWAY PROTOCOL_ERROR): every stream
 * still running on the connection would die with it, e.g. when a drain's GOAWAY races a client's
 * POST. Envoy's codecs (nghttp2, oghttp2) count a refused stream as seen and ignore what follows on
 * it. So here a refused stream id counts as one that may have existed: Netty then drops its DATA
 * (returning the bytes to the connection window) or answers it with a stream error, and the
 * connection goes on. Event loop only.
 */
final class Http2ServerConnection extends DefaultHttp2Connection {
  // the highest client stream id refused before it was created; 0: none
  private int highestRefused;

  Http2ServerConnection() {
    super(true);
  }

  /** The codec refused client stream {@code streamId} before creating it. */
  void refused(int streamId) {
    if (streamId > highestRefused && remote().isValidStreamId(streamId)) {
      highestRefused = streamId;
    }
  }

  @Override
  public boolean streamMayHaveExisted(int streamId) {
    return super.streamMayHaveExisted(streamId)
        || (streamId <= highestRefused && remote().isValidStreamId(streamId));
  }
}
