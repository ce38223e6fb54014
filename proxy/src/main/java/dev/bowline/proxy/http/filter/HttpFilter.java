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

  /**
   * The request body this filter asked for with {@link StreamContext#bufferRequestBody} from its
   * {@code onRequestHeaders} (Envoy's {@code decodeData} after {@code StopIterationAndBuffer}).
   * {@code body} is at most the asked limit and is only valid during the call (retain it to keep
   * it); the stream still forwards the whole body upstream unchanged. {@code partial}: the stream
   * had more bytes than {@code body} holds (Envoy's {@code x-envoy-auth-partial-body}). CONTINUE
   * goes on with the next filter; STOP_ITERATION waits for {@link StreamContext#continueDecoding()}
   * or a local reply. Never called for a filter that did not ask.
   */
  default FilterStatus onRequestBody(
      io.netty.buffer.ByteBuf body, boolean partial, StreamContext stream) {
    return FilterStatus.CONTINUE;
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
