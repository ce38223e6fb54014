package dev.bowline.controlplane.xds.gen.telemetry;

import java.util.List;

/**
 * What MeshConfig and the Telemetry resources decide for one proxy, per side: its stats filter and
 * its access logs; plus what could not be honoured, for the operator.
 *
 * @param clientStats outbound (client side, {@code reporter=source})
 * @param serverStats inbound (server side, {@code reporter=destination})
 * @param clientLogs outbound access logs
 * @param serverLogs inbound access logs
 * @param warnings settings accepted but not applied, each naming the resource and field
 * @param clientTracing outbound and gateway tracing; null with {@code serverTracing} when no
 *     Telemetry applies and MeshConfig names no default tracing provider (then istiod falls back to
 *     MeshConfig's {@code enableTracing} and {@code defaultConfig.tracing})
 * @param serverTracing inbound tracing
 */
public record EffectiveTelemetry(
    StatsOverrides clientStats,
    StatsOverrides serverStats,
    List<AccessLogSink> clientLogs,
    List<AccessLogSink> serverLogs,
    List<String> warnings,
    @org.jspecify.annotations.Nullable TracingSpec clientTracing,
    @org.jspecify.annotations.Nullable TracingSpec serverTracing) {
  /** Istio's defaults with no Telemetry resource and a default MeshConfig. */
  public static final EffectiveTelemetry DEFAULT =
      new EffectiveTelemetry(
          StatsOverrides.NONE, StatsOverrides.NONE, List.of(), List.of(), List.of());

  /** Telemetry without tracing resolved (legacy MeshConfig tracing applies). */
  public EffectiveTelemetry(
      StatsOverrides clientStats,
      StatsOverrides serverStats,
      List<AccessLogSink> clientLogs,
      List<AccessLogSink> serverLogs,
      List<String> warnings) {
    this(clientStats, serverStats, clientLogs, serverLogs, warnings, null, null);
  }

  public EffectiveTelemetry {
    clientLogs = List.copyOf(clientLogs);
    serverLogs = List.copyOf(serverLogs);
    warnings = List.copyOf(warnings);
  }
}
