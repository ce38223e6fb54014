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
 * @param delayedCloseTimeout {@code delayed_close_timeout}: how long a connection the proxy closes
 *     with a request still unread (a local reply before the body, a codec error) stays open after
 *     its last response, reading and dropping what the client still sends, so the client reads the
 *     response instead of a reset; zero closes at once
 * @param initialStreamWindowSize {@code http2_protocol_options.initial_stream_window_size}: the
 *     HTTP/2 stream flow-control window announced in SETTINGS (Envoy: 256 MiB)
 * @param initialConnectionWindowSize {@code http2_protocol_options.initial_connection_window_size}:
 *     the HTTP/2 connection window, raised from 65,535 by a WINDOW_UPDATE after SETTINGS (Envoy:
 *     256 MiB)
 * @param maxHeadersCount {@code common_http_protocol_options.max_headers_count}: the most header
 *     fields (HTTP/1: trailer fields too, when they are enabled) a request may have
 * @param enableTrailers {@code http_protocol_options.enable_trailers}: whether HTTP/1 trailers are
 *     read from requests and written on responses; when false, the default, Envoy's HTTP/1 codec
 *     drops them both ways (HTTP/2 trailers always pass)
 * @param maxConnectionDuration {@code common_http_protocol_options.max_connection_duration}: a
 *     downstream connection this old starts draining (HTTP/1: {@code connection: close} on the next
 *     response, an idle connection closes after the drain timeout; HTTP/2: GOAWAY); zero: never
 * @param drainTimeout {@code drain_timeout}: how long a draining connection is given before it is
 *     closed (HTTP/2: from GOAWAY to the close; Envoy's default 5 s)
 * @param maxStreamDuration {@code common_http_protocol_options.max_stream_duration}: a stream this
 *     old is answered 408 (its request not yet whole) or 504, or reset if its response began,
 *     counted in {@code downstream_rq_max_duration_reached}; zero: never
 * @param proxy100Continue {@code proxy_100_continue}: a request's {@code expect: 100-continue} goes
 *     upstream and the upstream's 100 (and 102, 103) come back to the client; when false, the
 *     default, the proxy answers 100 itself, drops the header and forwards no 1xx
 * @param idleTimeout {@code common_http_protocol_options.idle_timeout}: a downstream connection
 *     with no stream for this long is counted ({@code downstream_cx_idle_timeout}) and drained as
 *     Envoy's {@code onIdleTimeout} drains it (closed at once if it never sent a byte); Envoy's
 *     default 1 h; zero: never
 * @param requestHeadersTimeout {@code request_headers_timeout}: the longest a request head may take
 *     from its first byte to its end (HTTP/1), else 408 {@code request_header_timeout} and {@code
 *     downstream_rq_header_timeout}; zero, Envoy's default: none
 * @param maxRequestsPerConnection {@code common_http_protocol_options.max_requests_per_connection}:
 *     the requests one downstream connection may carry; its last one's response says {@code
 *     connection: close} (HTTP/1), or the connection is drained with GOAWAY (HTTP/2), counted in
 *     {@code downstream_cx_max_requests_reached}; zero, Envoy's default: no limit
 * @param headersWithUnderscoresAction {@code
 *     common_http_protocol_options.headers_with_underscores_action}, the proto enum's number:
 *     {@link #UNDERSCORES_ALLOW} (Envoy's default), {@link #UNDERSCORES_REJECT} (HTTP/1: 400 {@code
 *     http1.unexpected_underscore} and the close; HTTP/2: the stream reset) or {@link
 *     #UNDERSCORES_DROP} (the header dropped)
 * @param http2Keepalive {@code http2_protocol_options.connection_keepalive}: PINGs on an interval,
 *     the connection closed when one is not answered in time; null, Envoy's default: none
 */
public record CodecOptions(
    int maxConcurrentStreams,
    boolean http1StreamErrorOnInvalid,
    boolean http2StreamErrorOnInvalid,
    boolean acceptHttp10,
    String defaultHostForHttp10,
    java.time.Duration delayedCloseTimeout,
    int initialStreamWindowSize,
    int initialConnectionWindowSize,
    int maxHeadersCount,
    boolean enableTrailers,
    java.time.Duration maxConnectionDuration,
    java.time.Duration drainTimeout,
    java.time.Duration maxStreamDuration,
    boolean proxy100Continue,
    java.time.Duration idleTimeout,
    java.time.Duration requestHeadersTimeout,
    int maxRequestsPerConnection,
    int headersWithUnderscoresAction,
    @org.jspecify.annotations.Nullable KeepaliveSettings http2Keepalive) {
  /** {@code headers_with_underscores_action: ALLOW}, the default: headers pass as they are. */
  public static final int UNDERSCORES_ALLOW = 0;

  /** {@code REJECT_REQUEST}: a request with a header name holding {@code _} is refused. */
  public static final int UNDERSCORES_REJECT = 1;

  /** {@code DROP_HEADER}: such headers are dropped, the request goes on. */
  public static final int UNDERSCORES_DROP = 2;

  /** Envoy's default {@code max_concurrent_streams}: no limit short of the protocol's. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = Integer.MAX_VALUE;

  /** Envoy's default HTTP/2 stream and connection windows: 256 MiB. */
  public static final int DEFAULT_WINDOW_SIZE = 256 * 1024 * 1024;

  /** The smallest window Envoy accepts: HTTP/2's initial 65,535. */
  public static final int MIN_WINDOW_SIZE = 65_535;

  /** Envoy's default {@code max_headers_count}. */
  public static final int DEFAULT_MAX_HEADERS_COUNT = 100;

  /** Envoy's default {@code drain_timeout}: 5 s. */
  public static final java.time.Duration DEFAULT_DRAIN_TIMEOUT = java.time.Duration.ofSeconds(5);

  /** Envoy's default downstream {@code idle_timeout}: 1 h. */
  public static final java.time.Duration DEFAULT_IDLE_TIMEOUT = java.time.Duration.ofHours(1);

  /** Envoy's default {@code delayed_close_timeout}: 1 s. */
  public static final java.time.Duration DEFAULT_DELAYED_CLOSE_TIMEOUT =
      java.time.Duration.ofSeconds(1);

  /** Envoy's defaults: strict about invalid messaging, HTTP/1.1 and HTTP/2 only. */
  public static final CodecOptions DEFAULTS =
      new CodecOptions(
          DEFAULT_MAX_CONCURRENT_STREAMS,
          false,
          false,
          false,
          "",
          DEFAULT_DELAYED_CLOSE_TIMEOUT,
          DEFAULT_WINDOW_SIZE,
          DEFAULT_WINDOW_SIZE,
          DEFAULT_MAX_HEADERS_COUNT,
          false,
          java.time.Duration.ZERO,
          DEFAULT_DRAIN_TIMEOUT,
          java.time.Duration.ZERO,
          false,
          DEFAULT_IDLE_TIMEOUT,
          java.time.Duration.ZERO,
          0,
          UNDERSCORES_ALLOW,
          null);

  public CodecOptions {
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException("maxConcurrentStreams must be positive");
    }
    java.util.Objects.requireNonNull(defaultHostForHttp10, "defaultHostForHttp10");
    if (delayedCloseTimeout.isNegative()) {
      throw new IllegalArgumentException("delayedCloseTimeout must not be negative");
    }
    if (initialStreamWindowSize < MIN_WINDOW_SIZE
        || initialConnectionWindowSize < MIN_WINDOW_SIZE) {
      throw new IllegalArgumentException("HTTP/2 windows must be at least 65535");
    }
    if (headersWithUnderscoresAction < UNDERSCORES_ALLOW
        || headersWithUnderscoresAction > UNDERSCORES_DROP) {
      throw new IllegalArgumentException("headersWithUnderscoresAction must be 0, 1 or 2");
    }
    if (maxRequestsPerConnection < 0) {
      throw new IllegalArgumentException("maxRequestsPerConnection must not be negative");
    }
    if (maxHeadersCount < 1) {
      throw new IllegalArgumentException("maxHeadersCount must be positive");
    }
    if (maxConnectionDuration.isNegative()
        || drainTimeout.isNegative()
        || maxStreamDuration.isNegative()
        || idleTimeout.isNegative()
        || requestHeadersTimeout.isNegative()) {
      throw new IllegalArgumentException("durations must not be negative");
    }
  }
}
