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
 * @param scope for a full push, the proxies and types it is limited to; null: every proxy, every
 *     type
 */
public record PushRequest(
    boolean full,
    Set<String> edsHosts,
    long startNanos,
    Set<String> reasons,
    @org.jspecify.annotations.Nullable PushScope scope) {
  public PushRequest {
    edsHosts = Set.copyOf(edsHosts);
    reasons = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(reasons));
    if (!full) {
      scope = null;
    }
  }

  /** A request that, if full, pushes every proxy every type. */
  public PushRequest(boolean full, Set<String> edsHosts, long startNanos, Set<String> reasons) {
    this(full, edsHosts, startNanos, reasons, null);
  }

  /** Whether a full push regenerates {@code typeUrl}. */
  public boolean pushesType(String typeUrl) {
    return full && (scope == null || scope.typeUrls().contains(typeUrl));
  }

  /** This request without its full part: the EDS hosts only (for a proxy outside the scope). */
  public PushRequest edsOnly() {
    return new PushRequest(false, edsHosts, startNanos, reasons, null);
  }

  /** One request covering both; the earlier start wins; an unscoped full push wins over scopes. */
  public PushRequest merge(PushRequest other) {
    Set<String> hosts = new HashSet<>(edsHosts);
    hosts.addAll(other.edsHosts);
    Set<String> why = new HashSet<>(reasons);
    why.addAll(other.reasons);
    PushScope merged;
    if ((full && scope == null) || (other.full && other.scope == null)) {
      merged = null;
    } else if (full && other.full) {
      merged = scope.merge(other.scope);
    } else {
      merged = full ? scope : other.scope;
    }
    return new PushRequest(
        full || other.full, hosts, Math.min(startNanos, other.startNanos), why, merged);
  }
}
