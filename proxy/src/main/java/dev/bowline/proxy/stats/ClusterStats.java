package dev.bowline.proxy.stats;

import java.util.Map;

/**
 * Envoy's {@code cluster.<name>.*} counters the proxy keeps. Of the connection pool's: {@code
 * upstream_rq_pending_total} counts requests that waited for a connection (or an HTTP/2 stream
 * slot), {@code upstream_cx_max_requests} connections that reached {@code
 * max_requests_per_connection}, {@code upstream_cx_close_notify} upstream HTTP/2 GOAWAYs received
 * and HTTP/1 responses that close their connection; of an HTTP/2 stream's reset (Envoy's {@code
 * MultiplexedActiveClientBase::onStreamReset}), {@code upstream_rq_rx_reset} the peer's RST_STREAM
 * (refused streams aside), {@code upstream_rq_tx_reset} the proxy's own, and a lost connection
 * {@code upstream_rq_pending_failure_eject}; {@code upstream_rq_cancelled} counts requests that
 * gave up while they waited for a connection, {@code upstream_cx_connect_timeout} connections whose
 * {@code connect_timeout} (TCP connect and TLS handshake) ran out, also counted in {@code
 * upstream_cx_connect_fail}. The pool's {@code upstream_rq_pending_active} is a gauge of the
 * cluster's state (see {@code ClusterStates}). {@code upstream_cx_protocol_error} counts upstream
 * HTTP/1.1 connections closed because the peer sent what is no answer to the request in flight
 * (bytes that do not parse, a response while none was asked for, or more after a response). Of
 * Envoy's client codec stats, which it keeps in the cluster's scope, {@code http2.header_overflow}
 * counts upstream HTTP/2 header blocks over the cluster's {@code max_headers_count} or header list
 * size, {@code http2.keepalive_timeout} upstream HTTP/2 connections closed because a PING of the
 * cluster's {@code connection_keepalive} went unanswered. {@code
 * upstream_internal_redirect_succeeded_total} and {@code _failed_total} count the redirects a
 * route's {@code internal_redirect_policy} followed, or could not follow and passed on.
 */
public record ClusterStats(
    Counter upstreamRqTotal,
    Counter[] upstreamRqXx,
    Counter upstreamCxTotal,
    Counter upstreamCxConnectFail,
    Counter upstreamRqTimeout,
    Counter upstreamRqPendingFailureEject,
    Counter upstreamRqRetry,
    Counter upstreamCxOverflow,
    Counter upstreamRqPendingOverflow,
    Counter upstreamRqRetryOverflow,
    Counter outlierEjectionsTotal,
    Counter outlierEjectionsOverflow,
    Counter upstreamRqPendingTotal,
    Counter upstreamCxMaxRequests,
    Counter upstreamCxCloseNotify,
    Counter upstreamRqRxReset,
    Counter upstreamRqTxReset,
    Counter upstreamRqCancelled,
    Counter upstreamCxMaxDurationReached,
    Counter upstreamCxConnectTimeout,
    Counter upstreamCxProtocolError,
    Counter http2HeaderOverflow,
    Counter http2KeepaliveTimeout,
    Counter upstreamInternalRedirectSucceededTotal,
    Counter upstreamInternalRedirectFailedTotal) {

  static ClusterStats create(Stats s, String cluster) {
    Map<String, String> tags = Map.of("envoy_cluster_name", cluster);
    String p = "cluster." + cluster + ".";
    Counter[] xx = new Counter[6];
    for (int i = 1; i <= 5; i++) {
      xx[i] =
          s.counter(
              p + "upstream_rq_" + i + "xx",
              "envoy_cluster_upstream_rq_xx",
              Map.of(
                  "envoy_cluster_name", cluster, "envoy_response_code_class", String.valueOf(i)));
    }
    return new ClusterStats(
        s.counter(p + "upstream_rq_total", "envoy_cluster_upstream_rq_total", tags),
        xx,
        s.counter(p + "upstream_cx_total", "envoy_cluster_upstream_cx_total", tags),
        s.counter(p + "upstream_cx_connect_fail", "envoy_cluster_upstream_cx_connect_fail", tags),
        s.counter(p + "upstream_rq_timeout", "envoy_cluster_upstream_rq_timeout", tags),
        s.counter(
            p + "upstream_rq_pending_failure_eject",
            "envoy_cluster_upstream_rq_pending_failure_eject",
            tags),
        s.counter(p + "upstream_rq_retry", "envoy_cluster_upstream_rq_retry", tags),
        s.counter(p + "upstream_cx_overflow", "envoy_cluster_upstream_cx_overflow", tags),
        s.counter(
            p + "upstream_rq_pending_overflow", "envoy_cluster_upstream_rq_pending_overflow", tags),
        s.counter(
            p + "upstream_rq_retry_overflow", "envoy_cluster_upstream_rq_retry_overflow", tags),
        s.counter(
            p + "outlier_detection.ejections_enforced_total",
            "envoy_cluster_outlier_detection_ejections_enforced_total",
            tags),
        s.counter(
            p + "outlier_detection.ejections_overflow",
            "envoy_cluster_outlier_detection_ejections_overflow",
            tags),
        s.counter(p + "upstream_rq_pending_total", "envoy_cluster_upstream_rq_pending_total", tags),
        s.counter(p + "upstream_cx_max_requests", "envoy_cluster_upstream_cx_max_requests", tags),
        s.counter(p + "upstream_cx_close_notify", "envoy_cluster_upstream_cx_close_notify", tags),
        s.counter(p + "upstream_rq_rx_reset", "envoy_cluster_upstream_rq_rx_reset", tags),
        s.counter(p + "upstream_rq_tx_reset", "envoy_cluster_upstream_rq_tx_reset", tags),
        s.counter(p + "upstream_rq_cancelled", "envoy_cluster_upstream_rq_cancelled", tags),
        s.counter(
            p + "upstream_cx_max_duration_reached",
            "envoy_cluster_upstream_cx_max_duration_reached",
            tags),
        s.counter(
            p + "upstream_cx_connect_timeout", "envoy_cluster_upstream_cx_connect_timeout", tags),
        s.counter(
            p + "upstream_cx_protocol_error", "envoy_cluster_upstream_cx_protocol_error", tags),
        s.counter(p + "http2.header_overflow", "envoy_cluster_http2_header_overflow", tags),
        s.counter(p + "http2.keepalive_timeout", "envoy_cluster_http2_keepalive_timeout", tags),
        s.counter(
            p + "upstream_internal_redirect_succeeded_total",
            "envoy_cluster_upstream_internal_redirect_succeeded_total",
            tags),
        s.counter(
            p + "upstream_internal_redirect_failed_total",
            "envoy_cluster_upstream_internal_redirect_failed_total",
            tags));
  }

  /** Counts a response with {@code status}. */
  public void response(int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
      upstreamRqXx[cls].inc();
    }
  }
}
