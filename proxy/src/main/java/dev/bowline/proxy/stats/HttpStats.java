package dev.bowline.proxy.stats;

import java.util.Map;

/**
 * Envoy's {@code http.<stat_prefix>.*} counters of a connection manager.
 *
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
 * @param tracing {@code http.<stat_prefix>.tracing.*}
 */
public record HttpStats(
    Counter downstreamCxTotal,
    Counter downstreamRqTotal,
    Counter[] downstreamRqXx,
    Counter noRoute,
    Counter rqDirectResponse,
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
        Tracing.create(s, prefix));
  }

  public void response(int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
      downstreamRqXx[cls].inc();
    }
  }
}
