package dev.bowline.proxy.http;

import dev.bowline.proxy.http.filter.ResponseFlag;

/**
 * Envoy's response flags as {@code int} bits for code that passes several at once (filters through
 * {@code StreamContext.addResponseFlags}, local replies). They are {@link ResponseFlag#bit()}: a
 * stream keeps them in its one {@link dev.bowline.proxy.http.filter.ResponseFlags}, which access
 * logs and the stats filter read.
 */
public final class ResponseFlags {
  private ResponseFlags() {}

  /** UH: no healthy upstream host. */
  public static final int NO_HEALTHY_UPSTREAM = ResponseFlag.UH.bit();

  /** UF: upstream connection failure. */
  public static final int UPSTREAM_CONNECTION_FAILURE = ResponseFlag.UF.bit();

  /** UO: upstream overflow (circuit breaking). */
  public static final int UPSTREAM_OVERFLOW = ResponseFlag.UO.bit();

  /** NR: no route for the request. */
  public static final int NO_ROUTE_FOUND = ResponseFlag.NR.bit();

  /** URX: the retry limit or the retry budget ran out. */
  public static final int UPSTREAM_RETRY_LIMIT_EXCEEDED = ResponseFlag.URX.bit();

  /** NC: the route's cluster does not exist. */
  public static final int NO_CLUSTER_FOUND = ResponseFlag.NC.bit();

  /** DI: the fault filter delayed the request. */
  public static final int DELAY_INJECTED = ResponseFlag.DI.bit();

  /** FI: the fault filter aborted the request. */
  public static final int FAULT_INJECTED = ResponseFlag.FI.bit();

  /** RL: the rate limit filter refused the request. */
  public static final int RATE_LIMITED = ResponseFlag.RL.bit();

  /** UT: the route or per-try timeout fired. */
  public static final int UPSTREAM_REQUEST_TIMEOUT = ResponseFlag.UT.bit();

  /** UC: the upstream connection ended before the response. */
  public static final int UPSTREAM_CONNECTION_TERMINATION = ResponseFlag.UC.bit();

  /** DC: the downstream connection ended before the response. */
  public static final int DOWNSTREAM_CONNECTION_TERMINATION = ResponseFlag.DC.bit();

  /** SI: the stream idle timeout fired. */
  public static final int STREAM_IDLE_TIMEOUT = ResponseFlag.SI.bit();

  /** UR: the upstream reset the stream (HTTP/2 RST_STREAM). */
  public static final int UPSTREAM_REMOTE_RESET = ResponseFlag.UR.bit();

  /** {@code flags} as Envoy prints them, e.g. {@code UT} or {@code UF,URX}; {@code -} if none. */
  public static String format(int flags) {
    return dev.bowline.proxy.http.filter.ResponseFlags.format(flags);
  }
}
