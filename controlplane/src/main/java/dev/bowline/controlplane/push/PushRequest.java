package dev.bowline.controlplane.push;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a push must do, merged over the events that caused it.
 *
 * @param full every type must be regenerated (services or config changed)
 * @param edsHosts hostnames whose endpoints changed (for an EDS-only push)
 * @param startNanos when the first event of this push happened ({@link System#nanoTime()} scale of
 *     the control plane's ticker), for convergence time
 * @param reasons why: {@code endpoint}, {@code service}, {@code config}, …
 */
public record PushRequest(
    boolean full, Set<String> edsHosts, long startNanos, Set<String> reasons) {
  public PushRequest {
    edsHosts = Set.copyOf(edsHosts);
    reasons = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(reasons));
  }

  /** One request covering both; the earlier start wins. */
  public PushRequest merge(PushRequest other) {
    Set<String> hosts = new HashSet<>(edsHosts);
    hosts.addAll(other.edsHosts);
    Set<String> why = new HashSet<>(reasons);
    why.addAll(other.reasons);
    return new PushRequest(full || other.full, hosts, Math.min(startNanos, other.startNanos), why);
  }
}
