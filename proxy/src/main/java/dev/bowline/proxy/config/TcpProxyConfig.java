package dev.bowline.proxy.config;

import java.time.Duration;

/**
 * {@code envoy.filters.network.tcp_proxy}.
 *
 * @param statPrefix for {@code tcp.<prefix>.*} stats
 * @param clusters the upstream cluster, or several by weight
 * @param idleTimeout close both sides after this long without bytes; zero disables
 */
public record TcpProxyConfig(String statPrefix, ClusterChoice clusters, Duration idleTimeout)
    implements NetworkFilter {}
