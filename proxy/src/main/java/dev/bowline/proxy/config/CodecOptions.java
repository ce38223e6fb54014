package dev.bowline.proxy.config;

/**
 * A connection manager's codec options ({@code http_protocol_options}, {@code
 * http2_protocol_options} and {@code stream_error_on_invalid_http_message}), resolved as Envoy
 * resolves them.
 *
 * @param maxConcurrentStreams {@code http2_protocol_options.max_concurrent_streams}: HTTP/2 streams
 *     a client may have open at once on one connection; one more is refused with RST_STREAM
 *     REFUSED_STREAM
 * @param http1StreamErrorOnInvalid HTTP/1: a request answered 400 leaves the connection open (when
 *     false, the default, the 400 says {@code connection: close} and the connection ends). Errors
 *     of the codec itself (a request line or framing it cannot parse) always end the connection
 * @param http2StreamErrorOnInvalid HTTP/2: invalid HEADERS reset only their stream (RST_STREAM
 *     PROTOCOL_ERROR); when false, the default, they end the connection with GOAWAY PROTOCOL_ERROR
 * @param acceptHttp10 {@code http_protocol_options.accept_http_10}: when false, the default, a
 *     request that is not HTTP/1.1 (HTTP/1.0, and any other version, which Envoy's codec takes for
 *     1.0) gets 426 {@code low_version} and the connection closes
 * @param defaultHostForHttp10 {@code http_protocol_options.default_host_for_http_10}: the host of
 *     an HTTP/1.0 request without one; empty for none (such a request gets 400 missing_host_header)
 */
public record CodecOptions(
    int maxConcurrentStreams,
    boolean http1StreamErrorOnInvalid,
    boolean http2StreamErrorOnInvalid,
    boolean acceptHttp10,
    String defaultHostForHttp10) {
  /** Envoy's default {@code max_concurrent_streams}: no limit short of the protocol's. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = Integer.MAX_VALUE;

  /** Envoy's defaults: strict about invalid messaging, HTTP/1.1 and HTTP/2 only. */
  public static final CodecOptions DEFAULTS =
      new CodecOptions(DEFAULT_MAX_CONCURRENT_STREAMS, false, false, false, "");

  public CodecOptions {
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException("maxConcurrentStreams must be positive");
    }
    java.util.Objects.requireNonNull(defaultHostForHttp10, "defaultHostForHttp10");
  }
}
