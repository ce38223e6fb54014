package dev.bowline.proxy.http.filter;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/** A per-stream HTTP filter. Runs on the stream's event loop; must never block. */
public interface HttpFilter {
  /** Sees (and may change) the request head; STOP means the filter sent a local reply. */
  default FilterStatus onRequestHeaders(HttpRequest request, LocalReplySink reply) {
    return FilterStatus.CONTINUE;
  }

  /**
   * Sees (and may change) the request head, with the stream's context and the filter's per-route
   * config ({@code typed_per_filter_config} of the matched route, else of its virtual host; null
   * when neither has one or no route matched). STOP_ITERATION pauses the chain until the filter
   * calls {@link StreamContext#continueDecoding()} or answers locally. By default the simpler
   * {@link #onRequestHeaders(HttpRequest, LocalReplySink)}.
   */
  default FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    return onRequestHeaders(request, (status, body) -> stream.sendLocalReply(status, body, null));
  }

  /** Sees (and may change) the response head on its way down, local replies included. */
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
