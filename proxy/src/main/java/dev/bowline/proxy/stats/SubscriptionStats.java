package dev.bowline.proxy.stats;

import java.util.Map;

/**
 * Envoy's xDS subscription stats under one prefix ({@code listener_manager.lds.}, {@code
 * cluster_manager.cds.}, {@code cluster.<name>.} for a cluster's EDS, {@code
 * http.<prefix>.rds.<route>.}): {@code update_attempt} counts every response answered and every
 * stream failure (and the subscription's start), {@code update_success} the responses accepted,
 * {@code update_rejected} the responses NACKed, {@code update_failure} the streams that failed; the
 * {@code version} gauge is the xxHash64 of the last accepted {@code version_info}. Updated on the
 * xDS client's thread only.
 */
public final class SubscriptionStats {
  private final Counter attempt;
  private final Counter success;
  private final Counter rejected;
  private final Counter failure;
  private volatile long version;

  private SubscriptionStats(Counter attempt, Counter success, Counter rejected, Counter failure) {
    this.attempt = attempt;
    this.success = success;
    this.rejected = rejected;
    this.failure = failure;
  }

  static SubscriptionStats create(
      Stats s, String prefix, String promPrefix, Map<String, String> tags) {
    var stats =
        new SubscriptionStats(
            s.counter(prefix + "update_attempt", promPrefix + "update_attempt", tags),
            s.counter(prefix + "update_success", promPrefix + "update_success", tags),
            s.counter(prefix + "update_rejected", promPrefix + "update_rejected", tags),
            s.counter(prefix + "update_failure", promPrefix + "update_failure", tags));
    s.gauge(prefix + "version", promPrefix + "version", tags, () -> stats.version);
    return stats;
  }

  /** The subscription started (its first request). */
  public void started() {
    attempt.inc();
  }

  /** A response was accepted at {@code versionInfo}. */
  public void accepted(String versionInfo) {
    attempt.inc();
    success.inc();
    version = dev.bowline.proxy.lb.XxHash64.hash(versionInfo, 0);
  }

  /** A response was NACKed. */
  public void rejected() {
    attempt.inc();
    rejected.inc();
  }

  /** The stream failed (closed by the server or never established). */
  public void failed() {
    attempt.inc();
    failure.inc();
  }
}
