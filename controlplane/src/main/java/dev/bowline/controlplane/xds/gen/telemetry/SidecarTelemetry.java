package dev.bowline.controlplane.xds.gen.telemetry;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;

/**
 * What a sidecar's connection managers carry for telemetry, per side: the HTTP filters before the
 * router and the access logs, from the Telemetry resources in force and MeshConfig.
 *
 * @param inboundFilters metadata exchange and server-side stats
 * @param inboundLogs server-side access logs
 * @param outboundFilters metadata exchange and client-side stats
 * @param outboundLogs client-side access logs
 */
public record SidecarTelemetry(
    List<HttpFilter> inboundFilters,
    List<AccessLog> inboundLogs,
    List<HttpFilter> outboundFilters,
    List<AccessLog> outboundLogs) {
  public SidecarTelemetry {
    inboundFilters = List.copyOf(inboundFilters);
    inboundLogs = List.copyOf(inboundLogs);
    outboundFilters = List.copyOf(outboundFilters);
    outboundLogs = List.copyOf(outboundLogs);
  }

  /**
   * The telemetry of {@code proxy} in {@code push}, with the push's MeshConfig ({@code
   * accessLogFile}, {@code accessLogEncoding}, {@code accessLogFormat}, {@code extensionProviders},
   * {@code defaultProviders}, {@code rootNamespace}).
   */
  public static SidecarTelemetry of(Proxy proxy, PushContext push) {
    EffectiveTelemetry t =
        TelemetryResolver.resolve(
            push.mesh(), push.config().telemetries().all(), proxy.namespace(), proxy.labels());
    return new SidecarTelemetry(
        TelemetryFilters.sidecarInbound(t.serverStats()),
        AccessLogs.of(t.serverLogs()),
        TelemetryFilters.sidecarOutbound(t.clientStats()),
        AccessLogs.of(t.clientLogs()));
  }
}
