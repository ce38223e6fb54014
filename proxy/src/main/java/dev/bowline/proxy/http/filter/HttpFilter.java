package dev.bowline.proxy.http.filter;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/** A per-stream HTTP filter. Runs on the stream's event loop; must never block. */
public interface HttpFilter {
  /** Sees (and may change) the request head; STOP means the filter sent a local reply. */
  default FilterStatus onRequestHeaders(HttpRequest request, LocalReplySink reply) {
    return FilterStatus.CONTINUE;
  }

  /** Sees (and may change) the response head on its way down. */
  default void onResponseHeaders(HttpResponse response) {}

  /**
   * The stream ended (response sent whole, local reply, or reset); called once, last, on the
   * stream's event loop. Envoy's access-log hook: {@code info} is final now.
   */
  default void onStreamComplete(StreamInfo info) {}

  /** Lets a filter answer a request itself. */
  @FunctionalInterface
  interface LocalReplySink {
    void send(int status, String body);
  }
}
