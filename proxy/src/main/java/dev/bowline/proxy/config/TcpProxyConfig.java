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
 */
public record TcpProxyConfig(
    String statPrefix,
    ClusterChoice clusters,
    Duration idleTimeout,
    Duration maxDownstreamConnectionDuration)
    implements NetworkFilter {}
