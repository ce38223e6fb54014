package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's {@code http.<stat_prefix>.*} counters of a connection manager.
 *
 * @param downstreamRqRejectedViaIpDetection requests an {@code original_ip_detection_extensions}
 *     entry rejected ({@code reject_with_status})
 * @param downstreamCxProtocolError connections the codec ended on a protocol error (a request it
 *     could not parse, an HTTP/2 connection error)
 * @param downstreamRqResponseBeforeRqComplete responses whose headers went out before the request
 *     ended (Envoy counts them as the response headers are encoded)
 * @param downstreamCxDelayedCloseTimeout connections closed because {@code delayed_close_timeout}
 *     ran out before the client closed
 * @param downstreamRqRxReset streams that ended in a reset, whoever reset them (Envoy counts it in
 *     its connection manager's {@code onResetStream}, which every reset of a stream reaches: the
 *     client's RST_STREAM or disconnect, a codec error, and the proxy's own resets)
 * @param downstreamRqTxReset streams the proxy reset itself (an upstream reset or a timeout after
 *     the response began)
 * @param downstreamCxMaxDurationReached connections that reached {@code max_connection_duration}
 *     and were drained
 * @param downstreamRqMaxDurationReached streams that reached {@code max_stream_duration} (answered
 *     408 or 504, or reset)
 * @param downstreamRqTooManyPrematureResets HTTP/2 connections aborted because too many of their
 *     streams were reset before any response and young (Envoy's rapid-reset rule)
 * @param downstreamCxIdleTimeout connections that had no stream for {@code
 *     common_http_protocol_options.idle_timeout} and were drained (or closed, before their first
 *     byte)
 * @param downstreamRqHeaderTimeout requests whose head did not end within {@code
 *     request_headers_timeout} of its first byte (answered 408)
 * @param downstreamCxDestroy connections that ended (Envoy counts it as its connection manager
 *     goes, one per connection)
 * @param downstreamCxDestroyRemote connections the client ended (its FIN or reset, a read or write
 *     error: Envoy's {@code RemoteClose} event)
 * @param downstreamCxDestroyLocal connections the proxy ended (Envoy's {@code LocalClose})
 * @param downstreamCxDestroyActiveRq connections that ended with a stream open
 * @param downstreamCxDestroyRemoteActiveRq those the client ended, and those the proxy ended from
 *     outside the connection manager (the listener's drain time, the premature-reset abort: Envoy
 *     counts these as remote, its {@code onEvent} comment says so)
 * @param downstreamCxDestroyLocalActiveRq those the connection manager ended with a stream open (a
 *     protocol error)
 * @param downstreamCxHttp1Total connections whose codec became HTTP/1 (at their first bytes)
 * @param downstreamCxHttp2Total connections whose codec became HTTP/2
 * @param downstreamCxActive the gauge {@code downstream_cx_active}: connections open now
 * @param downstreamCxHttp1Active the gauge {@code downstream_cx_http1_active}
 * @param downstreamCxHttp2Active the gauge {@code downstream_cx_http2_active}
 * @param downstreamCxMaxRequestsReached requests that reached their connection's {@code
 *     max_requests_per_connection} (Envoy counts each stream from the last allowed one on)
 * @param downstreamCxSslTotal connections with TLS under the connection manager (Envoy counts them
 *     as the connection manager starts, before the handshake)
 * @param downstreamCxSslActive the gauge {@code downstream_cx_ssl_active}
 * @param downstreamRqActive the gauge {@code downstream_rq_active}: streams open now (from the
 *     request's head to the stream's end, as Envoy's {@code ActiveStream} lives)
 * @param downstreamCxLengthMs the histogram {@code downstream_cx_length_ms}: how long each
 *     connection lasted, recorded as it ends
 * @param downstreamCxDrainClose connections told to close as they drain by a response (HTTP/1
 *     {@code connection: close}, HTTP/2 GOAWAY), Envoy's count at its connection manager's {@code
 *     drainClose} check
 * @param tracing {@code http.<stat_prefix>.tracing.*}
 */
public record HttpStats(
    Counter downstreamCxTotal,
    Counter downstreamRqTotal,
    Counter[] downstreamRqXx,
    Counter noRoute,
    Counter rqDirectResponse,
    Counter downstreamRqRejectedViaIpDetection,
    Counter downstreamRqTimeout,
    Counter downstreamRqIdleTimeout,
    Counter downstreamRqTooLarge,
    Counter downstreamFlowControlPausedReadingTotal,
    Counter downstreamFlowControlResumedReadingTotal,
    Counter downstreamCxProtocolError,
    Counter downstreamRqResponseBeforeRqComplete,
    Counter downstreamCxDelayedCloseTimeout,
    Counter downstreamRqRxReset,
    Counter downstreamRqTxReset,
    Counter downstreamCxMaxDurationReached,
    Counter downstreamRqMaxDurationReached,
    Counter downstreamRqTooManyPrematureResets,
    Counter downstreamCxIdleTimeout,
    Counter downstreamRqHeaderTimeout,
    Counter downstreamCxDestroy,
    Counter downstreamCxDestroyRemote,
    Counter downstreamCxDestroyLocal,
    Counter downstreamCxDestroyActiveRq,
    Counter downstreamCxDestroyRemoteActiveRq,
    Counter downstreamCxDestroyLocalActiveRq,
    Counter downstreamCxHttp1Total,
    Counter downstreamCxHttp2Total,
    LongAdder downstreamCxActive,
    LongAdder downstreamCxHttp1Active,
    LongAdder downstreamCxHttp2Active,
    Counter downstreamCxMaxRequestsReached,
    Counter downstreamCxSslTotal,
    LongAdder downstreamCxSslActive,
    LongAdder downstreamRqActive,
    Histogram downstreamCxLengthMs,
    Counter downstreamCxDrainClose,
    Tracing tracing) {

  /**
   * Envoy's {@code ConnectionManagerTracingStats}: why each request was (not) traced, counted once
   * per request of a connection manager with {@code tracing} (Envoy's {@code chargeTracingStats}).
   */
  public record Tracing(
      Counter randomSampling,
      Counter serviceForced,
      Counter clientEnabled,
      Counter notTraceable,
      Counter healthCheck) {
    static Tracing create(Stats s, String prefix) {
      Map<String, String> tags = Map.of("envoy_http_conn_manager_prefix", prefix);
      String p = "http." + prefix + ".tracing.";
      return new Tracing(
          s.counter(p + "random_sampling", "envoy_http_tracing_random_sampling", tags),
          s.counter(p + "service_forced", "envoy_http_tracing_service_forced", tags),
          s.counter(p + "client_enabled", "envoy_http_tracing_client_enabled", tags),
          s.counter(p + "not_traceable", "envoy_http_tracing_not_traceable", tags),
          s.counter(p + "health_check", "envoy_http_tracing_health_check", tags));
    }
  }

  static HttpStats create(Stats s, String prefix) {
    Map<String, String> tags = Map.of("envoy_http_conn_manager_prefix", prefix);
    String p = "http." + prefix + ".";
    Counter[] xx = new Counter[6];
    for (int i = 1; i <= 5; i++) {
      xx[i] =
          s.counter(
              p + "downstream_rq_" + i + "xx",
              "envoy_http_downstream_rq_xx",
              Map.of(
                  "envoy_http_conn_manager_prefix",
                  prefix,
                  "envoy_response_code_class",
                  String.valueOf(i)));
    }
    return new HttpStats(
        s.counter(p + "downstream_cx_total", "envoy_http_downstream_cx_total", tags),
        s.counter(p + "downstream_rq_total", "envoy_http_downstream_rq_total", tags),
        xx,
        s.counter(p + "no_route", "envoy_http_no_route", tags),
        s.counter(p + "rq_direct_response", "envoy_http_rq_direct_response", tags),
        s.counter(
            p + "downstream_rq_rejected_via_ip_detection",
            "envoy_http_downstream_rq_rejected_via_ip_detection",
            tags),
        s.counter(p + "downstream_rq_timeout", "envoy_http_downstream_rq_timeout", tags),
        s.counter(p + "downstream_rq_idle_timeout", "envoy_http_downstream_rq_idle_timeout", tags),
        s.counter(p + "downstream_rq_too_large", "envoy_http_downstream_rq_too_large", tags),
        s.counter(
            p + "downstream_flow_control_paused_reading_total",
            "envoy_http_downstream_flow_control_paused_reading_total",
            tags),
        s.counter(
            p + "downstream_flow_control_resumed_reading_total",
            "envoy_http_downstream_flow_control_resumed_reading_total",
            tags),
        s.counter(
            p + "downstream_cx_protocol_error", "envoy_http_downstream_cx_protocol_error", tags),
        s.counter(
            p + "downstream_rq_response_before_rq_complete",
            "envoy_http_downstream_rq_response_before_rq_complete",
            tags),
        s.counter(
            p + "downstream_cx_delayed_close_timeout",
            "envoy_http_downstream_cx_delayed_close_timeout",
            tags),
        s.counter(p + "downstream_rq_rx_reset", "envoy_http_downstream_rq_rx_reset", tags),
        s.counter(p + "downstream_rq_tx_reset", "envoy_http_downstream_rq_tx_reset", tags),
        s.counter(
            p + "downstream_cx_max_duration_reached",
            "envoy_http_downstream_cx_max_duration_reached",
            tags),
        s.counter(
            p + "downstream_rq_max_duration_reached",
            "envoy_http_downstream_rq_max_duration_reached",
            tags),
        s.counter(
            p + "downstream_rq_too_many_premature_resets",
            "envoy_http_downstream_rq_too_many_premature_resets",
            tags),
        s.counter(p + "downstream_cx_idle_timeout", "envoy_http_downstream_cx_idle_timeout", tags),
        s.counter(
            p + "downstream_rq_header_timeout", "envoy_http_downstream_rq_header_timeout", tags),
        s.counter(p + "downstream_cx_destroy", "envoy_http_downstream_cx_destroy", tags),
        s.counter(
            p + "downstream_cx_destroy_remote", "envoy_http_downstream_cx_destroy_remote", tags),
        s.counter(
            p + "downstream_cx_destroy_local", "envoy_http_downstream_cx_destroy_local", tags),
        s.counter(
            p + "downstream_cx_destroy_active_rq",
            "envoy_http_downstream_cx_destroy_active_rq",
            tags),
        s.counter(
            p + "downstream_cx_destroy_remote_active_rq",
            "envoy_http_downstream_cx_destroy_remote_active_rq",
            tags),
        s.counter(
            p + "downstream_cx_destroy_local_active_rq",
            "envoy_http_downstream_cx_destroy_local_active_rq",
            tags),
        s.counter(p + "downstream_cx_http1_total", "envoy_http_downstream_cx_http1_total", tags),
        s.counter(p + "downstream_cx_http2_total", "envoy_http_downstream_cx_http2_total", tags),
        gauge(s, p, "downstream_cx_active", tags),
        gauge(s, p, "downstream_cx_http1_active", tags),
        gauge(s, p, "downstream_cx_http2_active", tags),
        s.counter(
            p + "downstream_cx_max_requests_reached",
            "envoy_http_downstream_cx_max_requests_reached",
            tags),
        s.counter(p + "downstream_cx_ssl_total", "envoy_http_downstream_cx_ssl_total", tags),
        gauge(s, p, "downstream_cx_ssl_active", tags),
        gauge(s, p, "downstream_rq_active", tags),
        s.histogram(p + "downstream_cx_length_ms", "envoy_http_downstream_cx_length_ms", tags),
        s.counter(p + "downstream_cx_drain_close", "envoy_http_downstream_cx_drain_close", tags),
        Tracing.create(s, prefix));
  }

  /** A gauge the connections of this prefix move up and down, read when the stats are shown. */
  private static LongAdder gauge(Stats s, String p, String name, Map<String, String> tags) {
    LongAdder value = new LongAdder();
    s.gauge(p + name, "envoy_http_" + name, tags, value::sum);
    return value;
  }

  public void response(int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
      downstreamRqXx[cls].inc();
    }
  }
}
