package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;

/**
 * Where one request goes upstream: an HTTP/1.1 connection from the pool or a stream of an HTTP/2
 * connection. The request head and body are written to {@link #channel()} as Netty HTTP objects;
 * the response comes back through the {@link ResponseListener} given to {@link Worker#acquire}.
 */
public interface Upstream {
  /** The channel to write the request to (an HTTP/1.1 connection or an HTTP/2 stream). */
  Channel channel();

  /** Gives up on the request: stops delivering to the listener and resets the exchange. */
  void abort();

  /**
   * The request's timeout (route or per-try) fired; {@link #abort} follows. Counted on the host
   * ({@code rq_timeout}, and {@code rq_error} when no response had begun, as Envoy's router charges
   * the 504 it answers).
   */
  default void timedOut(boolean beforeResponse) {}
}
