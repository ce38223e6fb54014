package dev.bowline.controlplane.xds.gen.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import dev.bowline.protos.MetadataExchangeProto;
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
  public static final String MX_CONFIG_TYPE = MetadataExchangeProto.TYPE_URL;

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

  /** The ALPN istio-proxy's TCP metadata exchange waits for. */
  public static final String MX_PROTOCOL = "istio-peer-exchange";

  private static final Any TCP_MX_CONFIG = tcpMxConfig();

  private TelemetryFilters() {}

  private static Any tcpMxConfig() {
    var d = MetadataExchangeProto.descriptor();
    return Any.newBuilder()
        .setTypeUrl(MX_CONFIG_TYPE)
        .setValue(
            com.google.protobuf.DynamicMessage.newBuilder(d)
                .setField(d.findFieldByName("protocol"), MX_PROTOCOL)
                .build()
                .toByteString())
        .build();
  }

  /**
   * istiod's {@code TCPListenerMx}: the TCP metadata exchange as the first network filter of an
   * inbound TCP chain ({@code protocol: istio-peer-exchange}).
   */
  public static io.envoyproxy.envoy.config.listener.v3.Filter tcpListenerMx() {
    return io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
        .setName(MX_NAME)
        .setTypedConfig(TCP_MX_CONFIG)
        .build();
  }

  /** istiod's {@code TCPClusterMx}: the same as an upstream filter of outbound clusters. */
  public static io.envoyproxy.envoy.config.cluster.v3.Filter tcpClusterMx() {
    return io.envoyproxy.envoy.config.cluster.v3.Filter.newBuilder()
        .setName(MX_NAME)
        .setTypedConfig(TCP_MX_CONFIG)
        .build();
  }

  /**
   * istiod's TCP stats filter ({@code istio.stats} as a network Wasm filter, null-VM {@code
   * envoy.wasm.stats}) for TCP chains, server side ({@code stats_inbound}) or client side; none
   * when the Telemetry API turned metrics off.
   */
  public static List<io.envoyproxy.envoy.config.listener.v3.Filter> tcpStats(
      boolean inbound, StatsOverrides overrides) {
    if (overrides.disabled()) {
      return List.of();
    }
    String rootId = inbound ? "stats_inbound" : "stats_outbound";
    return List.of(
        io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
            .setName(STATS_NAME)
            .setTypedConfig(
                Any.pack(
                    io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.newBuilder()
                        .setConfig(
                            PluginConfig.newBuilder()
                                .setRootId(rootId)
                                .setVmConfig(nullVm("envoy.wasm.stats", "tcp_" + rootId))
                                .setConfiguration(Any.pack(StringValue.of(overrides.json(false)))))
                        .build()))
            .build());
  }

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
