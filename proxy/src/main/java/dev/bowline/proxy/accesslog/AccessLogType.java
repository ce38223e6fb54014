package dev.bowline.proxy.accesslog;

/**
 * Why a line is written: Envoy's {@code envoy.data.accesslog.v3.AccessLogType}, printed by {@code
 * %ACCESS_LOG_TYPE%} by its name and matched by {@code log_type_filter}. The ordinals are the
 * proto's numbers.
 */
public enum AccessLogType {
  NotSet(false),
  TcpUpstreamConnected(true),
  TcpPeriodic(true),
  TcpConnectionEnd(false),
  DownstreamStart(true),
  DownstreamPeriodic(true),
  DownstreamEnd(false),
  UpstreamPoolReady(true),
  UpstreamPeriodic(true),
  UpstreamEnd(false),
  DownstreamTunnelSuccessfullyEstablished(true),
  UdpTunnelUpstreamConnected(true),
  UdpPeriodic(true),
  UdpSessionEnd(false);

  /** Whether the stream or connection goes on after this line (its duration is the current one). */
  final boolean inFlight;

  AccessLogType(boolean inFlight) {
    this.inFlight = inFlight;
  }

  private static final AccessLogType[] BY_NUMBER = values();

  /** The type of proto number {@code n}; null when there is none. */
  public static @org.jspecify.annotations.Nullable AccessLogType of(int n) {
    return n >= 0 && n < BY_NUMBER.length ? BY_NUMBER[n] : null;
  }
}
