package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VirtualService tcp and tls routes in the outbound port listeners, as istiod emits them. */
class L4RoutesTest {
  /** The chain's terminal filter (after the TCP stats). */
  static TcpProxy tcp(FilterChain chain) throws InvalidProtocolBufferException {
    return chain.getFilters(chain.getFiltersCount() - 1).getTypedConfig().unpack(TcpProxy.class);
  }

  @Test
  void tlsRoutesBecomeSniChainsAndTcpRoutesWeightedClusters() throws Exception {
    PushContext push =
        ServiceEntryClustersTest.push(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: secure, namespace: shop}
            spec:
              hosts: [secure.shop.example]
              resolution: STATIC
              ports: [{number: 8443, name: tls, protocol: TLS}]
              endpoints: [{address: 127.0.0.61, labels: {version: v1}}, {address: 127.0.0.62, labels: {version: v2}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: db, namespace: shop}
            spec:
              hosts: [db.shop.example]
              resolution: STATIC
              ports: [{number: 5432, name: tcp, protocol: TCP}]
              endpoints: [{address: 127.0.0.63}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: secure, namespace: shop}
            spec:
              hosts: [secure.shop.example]
              tls:
              - match: [{port: 8443, sniHosts: [secure.shop.example]}]
                route: [{destination: {host: secure.shop.example, subset: v2}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: db, namespace: shop}
            spec:
              hosts: [db.shop.example]
              tcp:
              - route:
                - {destination: {host: db.shop.example, subset: a}, weight: 90}
                - {destination: {host: db.shop.example, subset: b, port: {number: 5433}}, weight: 10}
            """);
    var lds =
        new SidecarListenerGenerator()
            .generate(
                SidecarResourceTest.proxy("shop", Map.of(), "REDIRECT"), push, ResourceNames.ALL);

    Listener secure = (Listener) lds.get("0.0.0.0_8443");
    assertThat(secure.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly(L4Routes.TLS_INSPECTOR);
    assertThat(secure.getFilterChainsCount()).isEqualTo(2);
    FilterChain sni = secure.getFilterChains(0);
    assertThat(sni.getFilterChainMatch().getServerNamesList())
        .containsExactly("secure.shop.example");
    assertThat(sni.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls");
    assertThat(tcp(sni).getCluster()).isEqualTo("outbound|8443|v2|secure.shop.example");
    assertThat(tcp(secure.getFilterChains(1)).getCluster())
        .isEqualTo("outbound|8443||secure.shop.example");

    Listener db = (Listener) lds.get("0.0.0.0_5432");
    assertThat(db.getListenerFiltersList()).isEmpty();
    TcpProxy weighted = tcp(db.getFilterChains(0));
    assertThat(weighted.getWeightedClusters().getClustersList())
        .extracting(c -> c.getName(), c -> c.getWeight())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("outbound|5432|a|db.shop.example", 90),
            org.assertj.core.groups.Tuple.tuple("outbound|5433|b|db.shop.example", 10));
  }
}
