package dev.bowline.controlplane.xds.gen.telemetry;

import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a sidecar's connection managers carry for telemetry, per side: the HTTP filters before the
 * router and the access logs, from the Telemetry resources in force and MeshConfig.
 *
 * @param inboundFilters metadata exchange and server-side stats
 * @param inboundLogs server-side access logs
 * @param outboundFilters metadata exchange and client-side stats
 * @param outboundLogs client-side access logs
 * @param inboundTracing server-side {@code tracing}, null when off
 * @param outboundTracing client-side {@code tracing}, null when off
 * @param inboundTcpStats the server-side TCP stats network filter (none when metrics are off)
 * @param outboundTcpStats the client-side TCP stats network filter
 */
public record SidecarTelemetry(
    List<HttpFilter> inboundFilters,
    List<AccessLog> inboundLogs,
    List<HttpFilter> outboundFilters,
    List<AccessLog> outboundLogs,
    HttpConnectionManager.@Nullable Tracing inboundTracing,
    HttpConnectionManager.@Nullable Tracing outboundTracing,
    List<io.envoyproxy.envoy.config.listener.v3.Filter> inboundTcpStats,
    List<io.envoyproxy.envoy.config.listener.v3.Filter> outboundTcpStats) {
  /** Telemetry without TCP stats. */
  public SidecarTelemetry(
      List<HttpFilter> inboundFilters,
      List<AccessLog> inboundLogs,
      List<HttpFilter> outboundFilters,
      List<AccessLog> outboundLogs,
      HttpConnectionManager.@Nullable Tracing inboundTracing,
      HttpConnectionManager.@Nullable Tracing outboundTracing) {
    this(
        inboundFilters,
        inboundLogs,
        outboundFilters,
        outboundLogs,
        inboundTracing,
        outboundTracing,
        List.of(),
        List.of());
  }

  /** Telemetry without tracing. */
  public SidecarTelemetry(
      List<HttpFilter> inboundFilters,
      List<AccessLog> inboundLogs,
      List<HttpFilter> outboundFilters,
      List<AccessLog> outboundLogs) {
    this(inboundFilters, inboundLogs, outboundFilters, outboundLogs, null, null);
  }

  public SidecarTelemetry {
    inboundFilters = List.copyOf(inboundFilters);
    inboundLogs = List.copyOf(inboundLogs);
    outboundFilters = List.copyOf(outboundFilters);
    outboundLogs = List.copyOf(outboundLogs);
    inboundTcpStats = List.copyOf(inboundTcpStats);
    outboundTcpStats = List.copyOf(outboundTcpStats);
  }

  /**
   * The network filters of an inbound TCP chain before its {@code tcp_proxy}, as istiod orders
   * them: the TCP metadata exchange, then {@code authz} (network RBAC), then the TCP stats.
   */
  public List<io.envoyproxy.envoy.config.listener.v3.Filter> inboundTcp(
      List<io.envoyproxy.envoy.config.listener.v3.Filter> authz) {
    List<io.envoyproxy.envoy.config.listener.v3.Filter> out = new java.util.ArrayList<>();
    out.add(TelemetryFilters.tcpListenerMx());
    out.addAll(authz);
    out.addAll(inboundTcpStats);
    return List.copyOf(out);
  }

  /**
   * The telemetry of {@code proxy} in {@code push}, with the push's MeshConfig ({@code
   * accessLogFile}, {@code accessLogEncoding}, {@code accessLogFormat}, {@code extensionProviders},
   * {@code defaultProviders}, {@code rootNamespace}).
   */
  public static SidecarTelemetry of(Proxy proxy, PushContext push) {
    MeshConfig mesh = push.mesh();
    EffectiveTelemetry t =
        TelemetryResolver.resolve(
            mesh, push.config().telemetries().all(), proxy.namespace(), proxy.labels());
    return new SidecarTelemetry(
        TelemetryFilters.sidecarInbound(t.serverStats()),
        AccessLogs.of(t.serverLogs()),
        TelemetryFilters.sidecarOutbound(t.clientStats()),
        AccessLogs.of(t.clientLogs()),
        tracing(t, false, mesh, proxy, push),
        tracing(t, true, mesh, proxy, push),
        TelemetryFilters.tcpStats(true, t.serverStats()),
        TelemetryFilters.tcpStats(false, t.clientStats()));
  }

  /**
   * The {@code tracing} of a connection manager of {@code proxy}: client side ({@code client}) for
   * outbound and gateway listeners, server side for inbound, as istiod's listener classes choose.
   */
  public static HttpConnectionManager.@Nullable Tracing tracing(
      EffectiveTelemetry t, boolean client, MeshConfig mesh, Proxy proxy, PushContext push) {
    boolean legacy = t.clientTracing() == null && t.serverTracing() == null;
    return TracingConfigs.of(
        client ? t.clientTracing() : t.serverTracing(),
        legacy,
        mesh,
        proxy,
        push.registry(),
        new java.util.ArrayList<>());
  }

  /** The client-side {@code tracing} of a gateway's connection managers. */
  public static HttpConnectionManager.@Nullable Tracing gatewayTracing(
      Proxy proxy, PushContext push) {
    MeshConfig mesh = push.mesh();
    EffectiveTelemetry t =
        TelemetryResolver.resolve(
            mesh, push.config().telemetries().all(), proxy.namespace(), proxy.labels());
    return tracing(t, true, mesh, proxy, push);
  }

  /**
   * {@code listeners} (LDS resources by name) with the access logs istiod adds outside the
   * connection managers ({@link AccessLogs#onListener}): an inbound listener ({@code
   * traffic_direction: INBOUND}) the server-side logs, any other the client-side ones.
   */
  public void addAccessLogs(
      java.util.Map<String, com.google.protobuf.Message> listeners, MeshConfig mesh) {
    if (inboundLogs.isEmpty() && outboundLogs.isEmpty()) {
      return;
    }
    boolean listenerLog = !Boolean.TRUE.equals(mesh.disableEnvoyListenerLog());
    listeners.replaceAll(
        (name, m) -> {
          if (!(m instanceof io.envoyproxy.envoy.config.listener.v3.Listener l)) {
            return m;
          }
          boolean inbound =
              l.getTrafficDirection()
                  == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND;
          return AccessLogs.onListener(l, inbound ? inboundLogs : outboundLogs, listenerLog);
        });
  }
}
