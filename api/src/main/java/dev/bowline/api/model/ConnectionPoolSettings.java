package dev.bowline.api.model;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Connection pool limits towards an upstream (or, in a Sidecar, inbound). */
public record ConnectionPoolSettings(@Nullable TCPSettings tcp, @Nullable HTTPSettings http) {

  /** TCP-level limits. */
  public record TCPSettings(
      @Nullable Integer maxConnections,
      @Nullable Duration connectTimeout,
      @Nullable TcpKeepalive tcpKeepalive,
      @Nullable Duration maxConnectionDuration,
      @Nullable Duration idleTimeout) {

    /** SO_KEEPALIVE settings. */
    public record TcpKeepalive(
        @Nullable Integer probes, @Nullable Duration time, @Nullable Duration interval) {}
  }

  /** HTTP-level limits. */
  public record HTTPSettings(
      @Nullable Integer http1MaxPendingRequests,
      @Nullable Integer http2MaxRequests,
      @Nullable Integer maxRequestsPerConnection,
      @Nullable Integer maxRetries,
      @Nullable Duration idleTimeout,
      @Nullable H2UpgradePolicy h2UpgradePolicy,
      @Nullable Boolean useClientProtocol,
      @Nullable Integer maxConcurrentStreams) {

    /** Whether HTTP/1.1 connections upgrade to HTTP/2. */
    public enum H2UpgradePolicy {
      DEFAULT,
      DO_NOT_UPGRADE,
      UPGRADE
    }
  }
}
