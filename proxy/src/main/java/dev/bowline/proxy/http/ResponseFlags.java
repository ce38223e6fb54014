package dev.bowline.proxy.http;

/**
 * Envoy's response flags ({@code %RESPONSE_FLAGS%} in access logs), as bits of an {@code int}: the
 * one place that says why a stream ended the way it did. A stream collects them as it goes ({@code
 * HttpStream.responseFlags()}); {@link #format} prints them as Envoy does, comma-separated short
 * codes in this declaration order, {@code -} when none.
 */
public final class ResponseFlags {
  private ResponseFlags() {}

  /** UH: no healthy upstream host. */
  public static final int NO_HEALTHY_UPSTREAM = 1;

  /** UF: upstream connection failure. */
  public static final int UPSTREAM_CONNECTION_FAILURE = 1 << 1;

  /** UO: upstream overflow (circuit breaking). */
  public static final int UPSTREAM_OVERFLOW = 1 << 2;

  /** NR: no route for the request. */
  public static final int NO_ROUTE_FOUND = 1 << 3;

  /** URX: the retry limit or the retry budget ran out. */
  public static final int UPSTREAM_RETRY_LIMIT_EXCEEDED = 1 << 4;

  /** NC: the route's cluster does not exist. */
  public static final int NO_CLUSTER_FOUND = 1 << 5;

  /** DI: the fault filter delayed the request. */
  public static final int DELAY_INJECTED = 1 << 6;

  /** FI: the fault filter aborted the request. */
  public static final int FAULT_INJECTED = 1 << 7;

  /** RL: the rate limit filter refused the request. */
  public static final int RATE_LIMITED = 1 << 8;

  /** UT: the route or per-try timeout fired. */
  public static final int UPSTREAM_REQUEST_TIMEOUT = 1 << 9;

  /** UC: the upstream connection ended before the response. */
  public static final int UPSTREAM_CONNECTION_TERMINATION = 1 << 10;

  /** DC: the downstream connection ended before the response. */
  public static final int DOWNSTREAM_CONNECTION_TERMINATION = 1 << 11;

  /** SI: the stream idle timeout fired. */
  public static final int STREAM_IDLE_TIMEOUT = 1 << 12;

  /** UR: the upstream reset the stream (HTTP/2 RST_STREAM). */
  public static final int UPSTREAM_REMOTE_RESET = 1 << 13;

  private static final String[] CODES = {
    "UH", "UF", "UO", "NR", "URX", "NC", "DI", "FI", "RL", "UT", "UC", "DC", "SI", "UR"
  };

  /** {@code flags} as Envoy prints them, e.g. {@code UT} or {@code URX,UF}; {@code -} if none. */
  public static String format(int flags) {
    if (flags == 0) {
      return "-";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < CODES.length; i++) {
      if ((flags & (1 << i)) != 0) {
        if (!b.isEmpty()) {
          b.append(',');
        }
        b.append(CODES[i]);
      }
    }
    return b.toString();
  }
}
