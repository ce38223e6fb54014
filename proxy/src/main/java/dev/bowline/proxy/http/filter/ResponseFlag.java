package dev.bowline.proxy.http.filter;

/**
 * Envoy's response flags: why a stream ended the way it did, in the order and with the short names
 * Envoy prints ({@code %RESPONSE_FLAGS%}, the {@code response_flags} metric label).
 */
public enum ResponseFlag {
  /** Failed local health check (not used yet). */
  LH,
  /** No healthy upstream host. */
  UH,
  /** Upstream request timeout. */
  UT,
  /** Local reset (not used yet). */
  LR,
  /** Upstream remote reset. */
  UR,
  /** Upstream connection failure. */
  UF,
  /** Upstream connection termination. */
  UC,
  /** Upstream overflow (circuit breaking). */
  UO,
  /** No route configured. */
  NR,
  /** Delay injected by the fault filter. */
  DI,
  /** Abort injected by the fault filter. */
  FI,
  /** Rate limited. */
  RL,
  /** Unauthorized by an external service. */
  UAEX,
  /** Rate limit service error. */
  RLSE,
  /** Downstream connection termination. */
  DC,
  /** Upstream retry limit exceeded. */
  URX,
  /** Stream idle timeout. */
  SI,
  /** Invalid Envoy request headers. */
  IH,
  /** Downstream protocol error. */
  DPE,
  /** Upstream max stream duration reached. */
  UMSDR,
  /** Response from a filter's upstream after overload (not used yet). */
  OM,
  /**
   * Duration timeout: a connection exceeded {@code max_connection_duration} or {@code
   * max_downstream_connection_duration} (Envoy's DurationTimeout).
   */
  DT,
  /** Upstream protocol error. */
  UPE,
  /** No cluster found. */
  NC,
  /**
   * Downstream remote reset: the HTTP/2 stream was reset, by the client or by the codec for what
   * the client sent on it (a header block over the limits), which Envoy's codec reports as the
   * peer's reset.
   */
  DR;

  private final int bit = 1 << ordinal();

  /** This flag as a bit of {@link ResponseFlags#bits()}. */
  public int bit() {
    return bit;
  }
}
