package dev.bowline.proxy.http.filter;

import io.netty.util.concurrent.EventExecutor;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * What a filter may ask of the stream it runs on. Every method must be called on the stream's event
 * loop ({@link #executor()}).
 */
public interface StreamContext {
  /** The stream's event loop, for timers; never block it. */
  EventExecutor executor();

  /** The loop's random generator (percentages, jitter). */
  RandomGenerator random();

  /** Whether the request is gRPC ({@code content-type: application/grpc*}). */
  boolean grpc();

  /** Whether the stream has ended (answered or reset); a resumed filter must check it. */
  boolean done();

  /**
   * Answers locally with {@code status} and {@code body} (a gRPC request gets the mapped {@code
   * grpc-status}) and records {@code flag} (e.g. FI, RL; null: none). The response passes the
   * response side of the filters that already saw the request.
   */
  void sendLocalReply(int status, String body, @Nullable ResponseFlag flag);

  /**
   * As {@link #sendLocalReply(int, String, ResponseFlag)}, telling the access log why: Envoy's
   * {@code %RESPONSE_CODE_DETAILS%} (one token, no spaces, e.g. {@code
   * rbac_access_denied_matched_policy[none]}).
   */
  default void sendLocalReply(
      int status, String body, @Nullable ResponseFlag flag, String responseCodeDetails) {
    sendLocalReply(status, body, flag);
  }

  /**
   * Answers a gRPC request locally with {@code grpc-status: grpcStatus}, recording {@code flag}.
   */
  void sendGrpcReply(int grpcStatus, String message, @Nullable ResponseFlag flag);

  /** Records {@code flag} (e.g. DI) on the stream, in its {@link ResponseFlags}. */
  void addResponseFlag(ResponseFlag flag);

  /**
   * Asks for the request body before the chain goes on: call it from {@code onRequestHeaders} and
   * return STOP_ITERATION. The stream buffers the body (it goes upstream unchanged later) until the
   * request is complete or, with {@code allowPartial}, holds {@code maxBytes}; then the filter's
   * {@link HttpFilter#onRequestBody} gets its first {@code maxBytes} at most. Without {@code
   * allowPartial} a body longer than {@code maxBytes} is answered 413 {@code Payload Too Large}
   * (Envoy's buffer limit, {@code downstream_rq_too_large}). Streams whose filters do not ask
   * buffer nothing more than before. By default the stream cannot buffer.
   *
   * @throws IllegalArgumentException when {@code maxBytes} is not positive
   */
  default void bufferRequestBody(int maxBytes, boolean allowPartial) {
    throw new UnsupportedOperationException("this stream cannot buffer its request body");
  }

  /**
   * The calling filter's per-route configs from the least to the most specific (the route table's,
   * the matched virtual host's, then the route's {@code typed_per_filter_config}; Envoy's {@code
   * traversePerFilterConfig}), for filters that merge them; the last one is what {@code
   * onRequestHeaders} got. Only meaningful during {@code onRequestHeaders}; empty by default.
   */
  default java.util.List<Object> perFilterConfigs() {
    return java.util.List.of();
  }

  /** Resumes the filter chain after the next filter; for a filter that returned STOP_ITERATION. */
  void continueDecoding();

  /**
   * Sends {@code request} (a whole request: method, path, headers with {@code host}) to a host of
   * cluster {@code cluster} of the current config, through the proxy's own pools, balancer and
   * circuit breakers, as Envoy's async HTTP client does; {@code callback} runs on this stream's
   * event loop with the whole response, or a failure when the cluster is unknown or has no host,
   * the connection fails, {@code timeout} passes, or the body exceeds {@code maxBodyBytes}. The
   * call does not end with the stream. By default the stream cannot make calls.
   */
  default void httpCall(
      String cluster,
      io.netty.handler.codec.http.FullHttpRequest request,
      java.time.Duration timeout,
      int maxBodyBytes,
      HttpCallback callback) {
    request.release();
    callback.onFailure("upstream calls are not supported here");
  }

  /** The outcome of {@link #httpCall}; exactly one method is called, once. */
  interface HttpCallback {
    /** The response's status and whole body. */
    void onResponse(int status, byte[] body);

    /**
     * The response's status, headers, whole body and trailers (empty when none); by default {@link
     * #onResponse(int, byte[])}. For callers that read headers or trailers (ext_authz, gRPC).
     */
    default void onResponse(
        int status,
        io.netty.handler.codec.http.HttpHeaders headers,
        byte[] body,
        io.netty.handler.codec.http.HttpHeaders trailers) {
      onResponse(status, body);
    }

    /** Why no whole response came. */
    void onFailure(String reason);
  }
}
