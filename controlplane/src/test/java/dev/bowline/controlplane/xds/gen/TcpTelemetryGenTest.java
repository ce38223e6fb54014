package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * TCP telemetry as istiod 1.16 generates it: the TCP metadata exchange first on inbound TCP chains
 * (whose TLS offers {@code istio-peer-exchange}), the TCP stats network filter before every {@code
 * tcp_proxy} of a service, and the exchange as an upstream filter of mTLS clusters; and the proxy
 * accepts all of it.
 */
class TcpTelemetryGenTest {
  static final String REGISTRY =
      """
      services:
      - {namespace: weather, name: db, ports: [{name: tcp-db, port: 5432}]}
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      workloads:
      - {namespace: weather, name: db-v1-0, labels: {app: db, version: v1}, address: 127.0.0.4, serviceAccount: db}
      - {namespace: weather, name: frontend-v1-0, labels: {app: frontend, version: v1}, address: 127.0.0.2, serviceAccount: frontend}
      """;

  static PushContext push() throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(REGISTRY, "registry.yaml"));
    return new PushContext(1, registry.snapshot(), ConfigInputs.NONE);
  }

  static Proxy proxy(String ip, String name, boolean localMode) throws Exception {
    Struct.Builder md = Struct.newBuilder().putFields("NAMESPACE", string("weather"));
    if (localMode) {
      md.putFields("INTERCEPTION_MODE", string("NONE"))
          .putFields(
              "POD_PORTS",
              string("[{\"name\":\"tcp-db\",\"containerPort\":15432,\"protocol\":\"TCP\"}]"));
    }
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~" + ip + "~" + name + ".weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static SortedMap<String, Message> generate(Proxy proxy, String typeUrl) throws Exception {
    return new Generators()
        .forType(proxy, typeUrl)
        .orElseThrow()
        .generate(proxy, push(), ResourceNames.ALL);
  }

  @Test
  void inboundTcpChainsExchangeMetadataThenCountWithTheServerSideStats() throws Exception {
    Listener inbound =
        (Listener)
            generate(proxy("127.0.0.4", "db-v1-0", true), TypeUrls.LISTENER).get("127.0.0.4_5432");
    FilterChain tls =
        inbound.getFilterChainsList().stream()
            .filter(c -> c.getFilterChainMatch().getTransportProtocol().equals("tls"))
            .findFirst()
            .orElseThrow();
    assertThat(tls.getFiltersList())
        .extracting(Filter::getName)
        .containsExactly(
            "istio.metadata_exchange", "istio.stats", "envoy.filters.network.tcp_proxy");
    assertThat(tls.getFilters(0).getTypedConfig().getTypeUrl())
        .isEqualTo("type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange");
    // protocol: istio-peer-exchange (field 1, a string)
    assertThat(tls.getFilters(0).getTypedConfig().getValue().toStringUtf8())
        .endsWith("istio-peer-exchange");
    Wasm stats = tls.getFilters(1).getTypedConfig().unpack(Wasm.class);
    assertThat(stats.getConfig().getRootId()).isEqualTo("stats_inbound");
    assertThat(stats.getConfig().getVmConfig().getCode().getLocal().getInlineString())
        .isEqualTo("envoy.wasm.stats");
    assertThat(
            tls.getTransportSocket()
                .getTypedConfig()
                .unpack(DownstreamTlsContext.class)
                .getCommonTlsContext()
                .getAlpnProtocolsList())
        .containsExactly("istio-peer-exchange", "h2", "http/1.1");

    // the proxy takes it as it is
    var proxyListener =
        new dev.bowline.proxy.xds.ListenerParser(
                dev.bowline.proxy.http.filter.FilterRegistry.builtIn())
            .parse(inbound);
    assertThat(proxyListener.filterChains()).hasSize(inbound.getFilterChainsCount());
    assertThat(proxyListener.filterChains().getFirst().readFilters()).hasSize(2);
  }

  @Test
  void outboundTcpListenersCountClientSideAndMtlsClustersExchangeMetadata() throws Exception {
    Proxy frontend = proxy("127.0.0.2", "frontend-v1-0", false);
    Listener outbound = (Listener) generate(frontend, TypeUrls.LISTENER).get("0.0.0.0_5432");
    assertThat(outbound.getFilterChains(0).getFiltersList())
        .extracting(Filter::getName)
        .containsExactly("istio.stats", "envoy.filters.network.tcp_proxy");
    assertThat(
            outbound
                .getFilterChains(0)
                .getFilters(0)
                .getTypedConfig()
                .unpack(Wasm.class)
                .getConfig()
                .getRootId())
        .isEqualTo("stats_outbound");

    Cluster db =
        (Cluster)
            generate(frontend, TypeUrls.CLUSTER).get("outbound|5432||db.weather.svc.cluster.local");
    assertThat(db.getFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("istio.metadata_exchange");
    var parsed = new dev.bowline.proxy.xds.ClusterParser().parse(db);
    assertThat(parsed.upstreamFilters()).hasSize(1);
    new dev.bowline.proxy.xds.ListenerParser(dev.bowline.proxy.http.filter.FilterRegistry.builtIn())
        .parse(outbound);
  }
}
