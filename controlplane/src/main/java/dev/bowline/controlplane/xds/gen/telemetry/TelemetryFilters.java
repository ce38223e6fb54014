package dev.bowline.controlplane.xds.gen.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.config.core.v3.AsyncDataSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import java.util.List;

/**
 * The HTTP filters istiod 1.16 puts before the router of a sidecar's connection managers: {@code
 * istio.metadata_exchange} (null-VM {@code envoy.wasm.metadata_exchange}, configured by {@code
 * envoy.tcp.metadataexchange.config.MetadataExchange}) and {@code istio.stats} (null-VM {@code
 * envoy.wasm.stats}, root id {@code stats_outbound}/{@code stats_inbound}, JSON config in a {@code
 * StringValue} as telemetry v2's filters carry it).
 */
public final class TelemetryFilters {
  /** The metadata exchange filter's name in Istio. */
  public static final String MX_NAME = "istio.metadata_exchange";

  /** The stats filter's name in Istio. */
  public static final String STATS_NAME = "istio.stats";

  /** istio-proxy's TCP/HTTP metadata exchange config type (no Java artifact carries it). */
  public static final String MX_CONFIG_TYPE =
      "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange";

  private static final HttpFilter MX =
      HttpFilter.newBuilder()
          .setName(MX_NAME)
          .setTypedConfig(
              Any.pack(
                  Wasm.newBuilder()
                      .setConfig(
                          PluginConfig.newBuilder()
                              .setVmConfig(nullVm("envoy.wasm.metadata_exchange", ""))
                              .setConfiguration(Any.newBuilder().setTypeUrl(MX_CONFIG_TYPE)))
                      .build()))
          .build();

  private TelemetryFilters() {}

  /** Metadata exchange and server-side stats, for inbound connection managers. */
  public static List<HttpFilter> sidecarInbound() {
    return sidecarInbound(StatsOverrides.NONE);
  }

  /** Metadata exchange and server-side stats with {@code overrides}. */
  public static List<HttpFilter> sidecarInbound(StatsOverrides overrides) {
    // Istio sets disable_host_header_fallback for inbound because its inbound clusters carry the
    // service in their istio.services metadata; ours don't yet, so the Host header names it.
    return overrides.disabled()
        ? List.of(MX)
        : List.of(MX, stats("stats_inbound", overrides.json(false)));
  }

  /** Metadata exchange and client-side stats, for outbound connection managers. */
  public static List<HttpFilter> sidecarOutbound() {
    return sidecarOutbound(StatsOverrides.NONE);
  }

  /** Metadata exchange and client-side stats with {@code overrides}. */
  public static List<HttpFilter> sidecarOutbound(StatsOverrides overrides) {
    return overrides.disabled()
        ? List.of(MX)
        : List.of(MX, stats("stats_outbound", overrides.json(false)));
  }

  private static HttpFilter stats(String rootId, String json) {
    return HttpFilter.newBuilder()
        .setName(STATS_NAME)
        .setTypedConfig(
            Any.pack(
                Wasm.newBuilder()
                    .setConfig(
                        PluginConfig.newBuilder()
                            .setRootId(rootId)
                            .setVmConfig(nullVm("envoy.wasm.stats", rootId))
                            .setConfiguration(Any.pack(StringValue.of(json))))
                    .build()))
        .build();
  }

  private static VmConfig nullVm(String code, String vmId) {
    return VmConfig.newBuilder()
        .setVmId(vmId)
        .setRuntime("envoy.wasm.runtime.null")
        .setCode(
            AsyncDataSource.newBuilder().setLocal(DataSource.newBuilder().setInlineString(code)))
        .build();
  }
}
