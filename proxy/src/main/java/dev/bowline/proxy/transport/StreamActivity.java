package dev.bowline.proxy.transport;

/**
 * The handler at the end of an HTTP/2 stream's pipeline that keeps the stream's idle time: {@link
 * Http2ServerStreamCodec} tells it of every write on the stream (its reads it sees itself).
 */
public interface StreamActivity {
  /** Something is being written on the stream. */
  void streamActive();
}
