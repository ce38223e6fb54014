package dev.bowline.proxy.config;

import java.time.Duration;

/**
 * {@code envoy.filters.network.tcp_proxy}.
 *
 * @param statPrefix for {@code tcp.<prefix>.*} stats
 * @param clusters the upstream cluster, or several by weight
 * @param idleTimeout close both sides after this long without bytes; zero disables
 * @param maxDownstreamConnectionDuration {@code max_downstream_connection_duration}: a downstream
 *     connection this old is closed (flag {@code DT}, counter {@code
 *     tcp.<prefix>.max_downstream_connection_duration}); zero: never
 * @param accessLogs {@code access_log}: a line when the connection ends ({@code TcpConnectionEnd})
 * @param accessLogFlush {@code access_log_options} (or the deprecated {@code
 *     access_log_flush_interval}): {@code TcpPeriodic} and {@code TcpUpstreamConnected} lines
 */
public record TcpProxyConfig(
    String statPrefix,
    ClusterChoice clusters,
    Duration idleTimeout,
    Duration maxDownstreamConnectionDuration,
    java.util.List<dev.bowline.proxy.accesslog.FileAccessLog> accessLogs,
    AccessLogFlush accessLogFlush)
    implements NetworkFilter {
  public TcpProxyConfig {
    accessLogs = java.util.List.copyOf(accessLogs);
  }

  /** A TCP proxy without access logs. */
  public TcpProxyConfig(
      String statPrefix,
      ClusterChoice clusters,
      Duration idleTimeout,
      Duration maxDownstreamConnectionDuration) {
    this(
        statPrefix,
        clusters,
        idleTimeout,
        maxDownstreamConnectionDuration,
        java.util.List.of(),
        AccessLogFlush.NONE);
  }
}
