package dev.bowline.proxy.http;

import dev.bowline.proxy.stats.HttpStats;
import io.netty.channel.Channel;

/**
 * Envoy's answer to rapid reset (CVE-2023-44487) on one downstream HTTP/2 connection, its
 * connection manager's {@code isPrematureRstStream} and {@code maybeDrainDueToPrematureResets}:
 * every stream that ends counts as closed, and as premature when it got no response (no status was
 * sent) and lived no more than {@code overload.premature_reset_min_stream_lifetime_seconds} (1) in
 * whole seconds, so anything under 2 s. Once at least {@code
 * overload.premature_reset_total_stream_count} (500) streams closed, the connection is aborted when
 * half or more of them were premature; before that, as soon as the premature ones reach half of
 * that count (250), since no number of good streams could bring the ratio back. Abort is Envoy's
 * {@code ConnectionCloseType::Abort}: the socket closes with nothing flushed, no GOAWAY, counted in
 * {@code downstream_rq_too_many_premature_resets}; streams still open are logged {@code DC} with
 * the details {@code too_many_premature_resets}. A client that cancels long-lived streams, or
 * streams whose response began (gRPC cancellations), never trips it, however many it cancels.
 *
 * <p>Both limits are runtime keys, read from the bootstrap's {@code layered_runtime} static layers
 * ({@link dev.bowline.proxy.runtime.RuntimeValues}), Envoy's defaults otherwise. Event loop of the
 * connection only.
 */
final class PrematureResets {
  /**
   * The response code details of the streams still open when the connection is aborted (Envoy's
   * {@code doConnectionClose(Abort, no flag, "too_many_premature_resets")}); they are logged {@code
   * DC}.
   */
  static final String DETAILS = "too_many_premature_resets";

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final Channel connection;
  private final HttpStats stats;
  private final long totalStreamCount;
  private final long minStreamLifetimeSeconds;
  private long closed;
  private long premature;
  private boolean tripped;

  PrematureResets(
      Channel connection, HttpStats stats, dev.bowline.proxy.runtime.RuntimeValues runtime) {
    this.connection = connection;
    this.stats = stats;
    this.totalStreamCount = runtime.prematureResetTotalStreamCount();
    this.minStreamLifetimeSeconds = runtime.prematureResetMinStreamLifetimeSeconds();
  }

  /**
   * A stream of this connection ended after {@code lifetimeNanos}, with a response ({@code
   * responded}: a status went out) or without; may abort the connection.
   */
  void streamClosed(long lifetimeNanos, boolean responded) {
    if (tripped) {
      return;
    }
    closed++;
    if (!responded && lifetimeNanos / NANOS_PER_SECOND <= minStreamLifetimeSeconds) {
      premature++;
    }
    if (closed < totalStreamCount ? premature * 2 < totalStreamCount : premature * 2 < closed) {
      return;
    }
    tripped = true;
    stats.downstreamRqTooManyPrematureResets().inc();
    if (connection.isActive()) {
      // past the handlers: the HTTP/2 codec's close would be a graceful one (GOAWAY, waiting for
      // the open streams), Envoy's is an abort
      ConnectionEnd.closingFromOutside(connection); // Envoy's close() past doConnectionClose
      connection.unsafe().close(connection.unsafe().voidPromise());
    }
  }

  /** Whether the connection was aborted: what its codec still decodes starts no stream. */
  boolean tripped() {
    return tripped;
  }
}
