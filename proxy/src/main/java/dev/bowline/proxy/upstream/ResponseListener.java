package dev.bowline.proxy.upstream;

import io.netty.handler.codec.http.HttpObject;

/** Receives what an upstream HTTP/1.1 connection reads for the request it is serving. */
public interface ResponseListener {
  /** A response head, content or last content (ownership passes to the listener). */
  void onUpstreamObject(HttpObject msg);

  /** The connection closed or failed before the response ended. */
  void onUpstreamReset(String reason);

  /** The upstream can take more request bytes ({@code true}) or wants a pause. */
  default void onUpstreamWritabilityChanged(boolean writable) {}
}
