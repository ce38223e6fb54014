package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.SocketAddr;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One endpoint's outlier-detection state, shared by every event loop's {@link Host} for it:
 * consecutive error counters (atomics bumped on the request path) and the ejection, which only the
 * cluster's {@link ClusterState} changes.
 */
final class HostHealth {
  final SocketAddr address;

  /** When the endpoint joined the cluster (for slow start); 0 for the cluster's first hosts. */
  final long addedNanos;

  final AtomicInteger consecutive5xx = new AtomicInteger();
  final AtomicInteger consecutiveGateway = new AtomicInteger();
  final AtomicInteger consecutiveLocal = new AtomicInteger();

  // this interval's requests and failures (5xx, and local failures without the split), counted
  // only while a success-rate or failure-percentage detector can act on the cluster
  final java.util.concurrent.atomic.LongAdder intervalRequests =
      new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder intervalFailures =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * The success rate (percent) of the last outlier-detection interval, -1 when not computed (the
   * admin's {@code success_rate}); written by the cluster's interval timer only.
   */
  volatile double successRate = -1;

  /** Ejected by outlier detection; read on the request path through the health version. */
  volatile boolean ejected;

  /**
   * Failed its active health check (Envoy's {@code FAILED_ACTIVE_HC}): an endpoint of a cluster
   * with active health checks starts so, and leaves it at its first successful check.
   */
  volatile boolean failedActiveHc;

  /**
   * Not checked yet, with {@code ignore_new_hosts_until_first_hc} (Envoy's {@code
   * PENDING_ACTIVE_HC}): load balancing leaves the endpoint out altogether, so it does not count
   * against the cluster's health either.
   */
  volatile boolean pendingActiveHc;

  /**
   * EDS removed the endpoint while it passed its checks: it stays, with the last endpoint EDS gave
   * ({@link #removedAs}), taking traffic, until it fails one (Envoy's {@code
   * PENDING_DYNAMIC_REMOVAL}).
   */
  volatile boolean pendingRemoval;

  volatile dev.bowline.proxy.config.Endpoints.@org.jspecify.annotations.Nullable Endpoint removedAs;

  /**
   * The endpoint's {@code envoy.transport_socket_match} metadata, which chooses the transport its
   * health checks use (as its connections' ones).
   */
  volatile java.util.Map<String, String> socketMatch = java.util.Map.of();

  /** No check of this endpoint has ended yet (Envoy's session's {@code first_check_}). */
  volatile boolean firstCheck = true;

  // active health check counters, touched by the checker's loop only
  int hcFailures;
  int hcSuccesses;

  // guarded by the ClusterState's monitor
  int numEjections;
  long ejectedAtNanos;

  /** Whether load balancing should avoid the endpoint (outside panic). */
  boolean unhealthy() {
    return ejected || failedActiveHc;
  }

  HostHealth(SocketAddr address, long addedNanos) {
    this.address = address;
    this.addedNanos = addedNanos;
  }
}
