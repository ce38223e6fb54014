package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Protocol sniffing in the generated config, istiod 1.16's shapes: a port without a declared
 * protocol gets an outbound listener with a TCP default chain and an HTTP chain matched on the
 * sniffed application protocols, inbound chains per mTLS mode told apart by ALPN and transport, the
 * HTTP inspector (on {@code virtualInbound} only for sniffed ports) and MeshConfig's {@code
 * protocolDetectionTimeout}; declared ports keep their single-protocol shape.
 */
class ProtocolSniffingGenTest {
  /** {@code data} (auto) and {@code http-api} / {@code tcp-db} (declared), one at the proxy. */
  static final String ENTRIES =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: echo, namespace: shop}
      spec:
        hosts: [echo.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports: [{number: 7000, name: data, targetPort: 17000}, {number: 8080, name: http-api}]
        endpoints: [{address: 127.0.0.9, labels: {app: echo}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: db, namespace: shop}
      spec:
        hosts: [db.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports: [{number: 5432, name: tcp-db}]
        endpoints: [{address: 127.0.0.21}]
      """;

  static PushContext push(String extra, MeshConfig mesh) {
    return MeshConfigGenTest.push(ENTRIES + extra, mesh);
  }

  static Map<String, ?> lds(PushContext push) {
    Proxy proxy = MeshConfigGenTest.proxy();
    return new SidecarListenerGenerator().generate(proxy, push, ResourceNames.ALL);
  }

  static List<String> filterNames(List<ListenerFilter> filters) {
    return filters.stream().map(ListenerFilter::getName).toList();
  }

  static String summary(FilterChain c) throws Exception {
    var m = c.getFilterChainMatch();
    var f = c.getFilters(c.getFiltersCount() - 1);
    String kind =
        f.getTypedConfig().is(HttpConnectionManager.class)
            ? "http"
            : "tcp:" + f.getTypedConfig().unpack(TcpProxy.class).getCluster();
    return m.getTransportProtocol()
        + m.getApplicationProtocolsList()
        + (c.hasTransportSocket() ? "+tls" : "")
        + " "
        + kind;
  }

  @Test
  void anUndeclaredPortSniffsOutbound() throws Exception {
    Listener data = (Listener) lds(push("", MeshConfig.defaults())).get("0.0.0.0_7000");
    assertThat(filterNames(data.getListenerFiltersList()))
        .containsExactly(
            "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    // Istio's default protocolDetectionTimeout 0s: no timeout, continue on it
    assertThat(data.getListenerFiltersTimeout().getSeconds()).isZero();
    assertThat(data.getContinueOnListenerFiltersTimeout()).isTrue();
    assertThat(data.getFilterChainsList()).hasSize(1);
    FilterChain http = data.getFilterChains(0);
    assertThat(summary(http)).isEqualTo("raw_buffer[http/1.1, h2c] http");
    assertThat(
            http.getFilters(0)
                .getTypedConfig()
                .unpack(HttpConnectionManager.class)
                .getRds()
                .getRouteConfigName())
        .isEqualTo("7000");
    assertThat(summary(data.getDefaultFilterChain()))
        .isEqualTo("[] tcp:outbound|7000||echo.shop.example");

    // a declared TCP port keeps one chain and no HTTP inspector
    Listener db = (Listener) lds(push("", MeshConfig.defaults())).get("0.0.0.0_5432");
    assertThat(db.getListenerFiltersList()).isEmpty();
    assertThat(summary(db.getFilterChains(0))).isEqualTo("[] tcp:outbound|5432||db.shop.example");

    // MeshConfig protocolDetectionTimeout
    Listener timed =
        (Listener)
            lds(push("", MeshConfigGenTest.mesh("protocolDetectionTimeout: 250ms")))
                .get("0.0.0.0_7000");
    assertThat(timed.getListenerFiltersTimeout().getNanos()).isEqualTo(250_000_000);
  }

  /**
   * istiod 1.16 puts a declared HTTP port's outbound listener behind the HTTP inspector too: its
   * one HTTP chain matches what the inspector found to be HTTP, and istiod's {@code
   * PassthroughFilterChain} (TCP stats, then a TCP proxy to PassthroughCluster, or BlackHoleCluster
   * under REGISTRY_ONLY) takes the rest; both inspectors without predicates, and the detection
   * timeout as on sniffed ports.
   */
  @Test
  void aDeclaredHttpPortIsBehindTheHttpInspectorWithAPassthroughDefault() throws Exception {
    Listener api = (Listener) lds(push("", MeshConfig.defaults())).get("0.0.0.0_8080");
    assertThat(filterNames(api.getListenerFiltersList()))
        .containsExactly(
            "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    assertThat(api.getListenerFiltersList()).noneMatch(ListenerFilter::hasFilterDisabled);
    assertThat(api.getListenerFiltersTimeout().getSeconds()).isZero();
    assertThat(api.getContinueOnListenerFiltersTimeout()).isTrue();
    assertThat(api.getFilterChainsList()).hasSize(1);
    FilterChain http = api.getFilterChains(0);
    assertThat(summary(http)).isEqualTo("raw_buffer[http/1.1, h2c] http");
    HttpConnectionManager hcm =
        http.getFilters(http.getFiltersCount() - 1)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("8080");
    FilterChain passthrough = api.getDefaultFilterChain();
    assertThat(passthrough.getName()).isEqualTo("PassthroughFilterChain");
    assertThat(passthrough.hasFilterChainMatch()).isTrue();
    assertThat(summary(passthrough)).isEqualTo("[] tcp:PassthroughCluster");

    Listener registryOnly =
        (Listener)
            lds(push("", MeshConfigGenTest.mesh("outboundTrafficPolicy: {mode: REGISTRY_ONLY}")))
                .get("0.0.0.0_8080");
    assertThat(summary(registryOnly.getDefaultFilterChain())).isEqualTo("[] tcp:BlackHoleCluster");
  }

  /**
   * istiod's {@code istio.alpn} filter is on every outbound connection manager (before fault, CORS
   * and the router) and on none of the inbound ones.
   */
  @Test
  void outboundConnectionManagersCarryTheAlpnFilterAndInboundOnesDoNot() throws Exception {
    Map<String, ?> lds = lds(push(mtls("PERMISSIVE"), MeshConfig.defaults()));
    Listener api = (Listener) lds.get("0.0.0.0_8080");
    HttpConnectionManager out =
        api.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    List<String> names =
        out.getHttpFiltersList().stream()
            .map(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
                    ::getName)
            .toList();
    assertThat(names)
        .containsSubsequence(
            "istio.alpn",
            "envoy.filters.http.fault",
            "envoy.filters.http.cors",
            "envoy.filters.http.router");
    var alpn =
        out.getHttpFiltersList().stream()
            .filter(f -> f.getName().equals("istio.alpn"))
            .findFirst()
            .orElseThrow();
    assertThat(alpn.getTypedConfig().getTypeUrl())
        .isEqualTo("type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig");
    String json =
        com.google.protobuf.util.JsonFormat.printer().usingTypeRegistry(XdsJson.TYPES).print(alpn);
    assertThat(json.replaceAll("\\s+", ""))
        .contains("\"alpnOverride\":[\"istio-http/1.0\",\"istio\",\"http/1.0\"]")
        .contains(
            "\"upstreamProtocol\":\"HTTP11\",\"alpnOverride\":[\"istio-http/1.1\",\"istio\",\"http/1.1\"]")
        .contains(
            "\"upstreamProtocol\":\"HTTP2\",\"alpnOverride\":[\"istio-h2\",\"istio\",\"h2\"]");

    Listener in = (Listener) lds.get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    for (FilterChain c : in.getFilterChainsList()) {
      for (var f : c.getFiltersList()) {
        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
          assertThat(f.getTypedConfig().unpack(HttpConnectionManager.class).getHttpFiltersList())
              .noneMatch(h -> h.getName().equals("istio.alpn"));
        }
      }
    }
  }

  @Test
  void anUndeclaredPortIsRoutedByHttpRoutes() {
    RouteConfiguration rc =
        (RouteConfiguration)
            new SidecarRouteGenerator()
                .generate(
                    MeshConfigGenTest.proxy(), push("", MeshConfig.defaults()), ResourceNames.ALL)
                .get("7000");
    assertThat(rc.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("echo.shop.example:7000", "allow_any");
    // istiod's per-service route configuration of a bound sniffing listener: one host, any domain
    RouteConfiguration one =
        (RouteConfiguration)
            new SidecarRouteGenerator()
                .generate(
                    MeshConfigGenTest.proxy(),
                    push("", MeshConfig.defaults()),
                    ResourceNames.of(
                        java.util.Set.of("echo.shop.example:7000", "db.shop.example:5432")))
                .get("echo.shop.example:7000");
    assertThat(one.getVirtualHostsList()).hasSize(1);
    assertThat(one.getVirtualHosts(0).getDomainsList()).containsExactly("*");
  }

  static List<String> inboundChains(Listener virtualInbound, int port) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (FilterChain c : virtualInbound.getFilterChainsList()) {
      if (c.getFilterChainMatch().getDestinationPort().getValue() == port) {
        out.add(summary(c));
      }
    }
    return out;
  }

  static String mtls(String mode) {
    return """
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: shop}
        spec: {mtls: {mode: %s}}
        """
        .formatted(mode);
  }

  @Test
  void anUndeclaredInboundPortHasIstiodsChainsPerMtlsMode() throws Exception {
    Listener permissive =
        (Listener)
            lds(push(mtls("PERMISSIVE"), MeshConfig.defaults()))
                .get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    assertThat(inboundChains(permissive, 17000))
        .containsExactly(
            "tls[istio-http/1.0, istio-http/1.1, istio-h2]+tls http",
            "raw_buffer[http/1.1, h2c] http",
            "tls[istio-peer-exchange, istio]+tls tcp:inbound|17000||",
            "raw_buffer[] tcp:inbound|17000||",
            "tls[] tcp:inbound|17000||");
    // the HTTP inspector runs after the TLS inspector and only for the sniffed port
    List<ListenerFilter> filters = permissive.getListenerFiltersList();
    assertThat(filterNames(filters))
        .containsExactly(
            "envoy.filters.listener.original_dst",
            "envoy.filters.listener.tls_inspector",
            "envoy.filters.listener.http_inspector");
    var disabled = filters.get(2).getFilterDisabled().getNotMatch().getDestinationPortRange();
    assertThat(disabled.getStart()).isEqualTo(17000);
    assertThat(disabled.getEnd()).isEqualTo(17001);
    // the declared HTTP port keeps its chains
    assertThat(inboundChains(permissive, 8080))
        .containsExactly("tls[]+tls http", "raw_buffer[] http");

    Listener strict =
        (Listener)
            lds(push(mtls("STRICT"), MeshConfig.defaults()))
                .get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    assertThat(inboundChains(strict, 17000))
        .containsExactly(
            "tls[istio-http/1.0, istio-http/1.1, istio-h2]+tls http",
            "tls[]+tls tcp:inbound|17000||");
    Listener disable =
        (Listener)
            lds(push(mtls("DISABLE"), MeshConfig.defaults()))
                .get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    assertThat(inboundChains(disable, 17000))
        .containsExactly("raw_buffer[http/1.1, h2c] http", "raw_buffer[] tcp:inbound|17000||");
  }

  @Test
  void httpAndTcpServicesOnOnePortShareASniffingListener() throws Exception {
    String other =
        """
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: web, namespace: shop}
        spec:
          hosts: [web.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 5432, name: http-web}]
          endpoints: [{address: 127.0.0.22}]
        """;
    Listener shared = (Listener) lds(push(other, MeshConfig.defaults())).get("0.0.0.0_5432");
    assertThat(summary(shared.getFilterChains(0))).isEqualTo("raw_buffer[http/1.1, h2c] http");
    assertThat(summary(shared.getDefaultFilterChain()))
        .isEqualTo("[] tcp:outbound|5432||db.shop.example");
  }
}
