package dev.bowline.proxy.config;

import java.time.Duration;

/**
 * When a connection manager or a TCP proxy writes access-log lines besides the one at the end:
 * Envoy's {@code access_log_options} (HCM's {@code HcmAccessLogOptions}, tcp_proxy's {@code
 * TcpAccessLogOptions}) and the deprecated top-level fields they replace.
 *
 * @param interval {@code access_log_flush_interval}: a {@code DownstreamPeriodic} (HTTP) or {@code
 *     TcpPeriodic} line this often while the stream or connection lasts; zero: none
 * @param onNewRequest {@code flush_access_log_on_new_request}: a {@code DownstreamStart} line once
 *     the request head is routed
 * @param onTunnelEstablished {@code flush_log_on_tunnel_successfully_established}: a {@code
 *     DownstreamTunnelSuccessfullyEstablished} line once a CONNECT tunnel is up
 * @param onConnected tcp_proxy's {@code flush_access_log_on_connected}: a {@code
 *     TcpUpstreamConnected} line once the upstream connection is up
 */
public record AccessLogFlush(
    Duration interval, boolean onNewRequest, boolean onTunnelEstablished, boolean onConnected) {
  /** Envoy's defaults: one line at the end only. */
  public static final AccessLogFlush NONE = new AccessLogFlush(Duration.ZERO, false, false, false);

  /** Whether {@link #interval} asks for periodic lines. */
  public boolean periodic() {
    return !interval.isZero();
  }
}
