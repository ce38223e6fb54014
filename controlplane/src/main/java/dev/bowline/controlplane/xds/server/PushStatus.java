package dev.bowline.controlplane.xds.server;

import java.time.Instant;
import java.util.Set;

/**
 * The last push, as {@code /debug/push_status} shows it.
 *
 * @param version the push context version it made current
 * @param at when
 * @param full whether every type was regenerated (else EDS only)
 * @param edsHosts hostnames whose endpoints changed
 * @param reasons why ({@code endpoint}, {@code service}, {@code config}…)
 * @param proxiesQueued connections queued for it
 * @param connected connections at that moment
 */
public record PushStatus(
    long version,
    Instant at,
    boolean full,
    Set<String> edsHosts,
    Set<String> reasons,
    int proxiesQueued,
    int connected) {
  public PushStatus {
    edsHosts = Set.copyOf(edsHosts);
    reasons = Set.copyOf(reasons);
  }
}
