package dev.bowline.proxy.config;

import java.time.Duration;

/**
 * An HTTP/2 connection's {@code http2_protocol_options.connection_keepalive} (Envoy's {@code
 * KeepaliveSettings}), resolved: the connection sends a PING every {@code interval} plus a random
 * part of {@code jitterPercent} of it, and is closed when no PING ACK (nor, while one is awaited,
 * any other frame) arrives within {@code timeout}.
 *
 * @param interval time between the PING's ACK and the next PING; zero: no PING on an interval
 * @param timeout how long an ACK is awaited (Envoy: required, at least 1 ms)
 * @param jitterPercent the most added to {@code interval}, in percent of it (Envoy's default 15)
 * @param connectionIdleInterval upstream only: a connection that received nothing for this long
 *     sends a PING before its next new stream (Envoy's client codec); zero: never
 */
public record KeepaliveSettings(
    Duration interval, Duration timeout, double jitterPercent, Duration connectionIdleInterval) {
  /** Envoy's default {@code interval_jitter}: 15 %. */
  public static final double DEFAULT_JITTER_PERCENT = 15.0;

  public KeepaliveSettings {
    if (interval.isNegative() || connectionIdleInterval.isNegative()) {
      throw new IllegalArgumentException("intervals must not be negative");
    }
    if (!timeout.isPositive()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    if (!(jitterPercent >= 0 && jitterPercent <= 100)) {
      throw new IllegalArgumentException("jitterPercent must be in [0, 100]");
    }
  }
}
