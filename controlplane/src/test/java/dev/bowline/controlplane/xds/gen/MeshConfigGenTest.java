package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.MeshRegistry;
import dev.bowline.controlplane.registry.MeshRegistryTest;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * MeshConfig through the generators (decision 0021): each setting changes the output it should and
 * the per-resource settings that override it (a Sidecar's outboundTrafficPolicy, VirtualService
 * retries, a DestinationRule's TLS, a Telemetry resource) still win.
 */
class MeshConfigGenTest {
  static final String ENTRY =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: a, namespace: shop}
      spec:
        hosts: [a.shop.example]
        resolution: STATIC
        ports: [{number: 8080, name: http, protocol: HTTP}]
        endpoints: [{address: 127.0.0.41, labels: {security.istio.io/tlsMode: istio}, serviceAccount: a}]
      """;

  static MeshConfig mesh(String yaml) {
    DecodedMeshConfig d = new ResourceCodec().decodeMeshConfig("mesh.yaml", yaml);
    assertThat(d.errors()).isEmpty();
    return d.config();
  }

  static PushContext push(String config, MeshConfig mesh) {
    ConfigSnapshot snapshot = MeshRegistryTest.config(config);
    MeshRegistry registry = new MeshRegistry(new LocalRegistry("cluster.local"));
    registry.updateConfig(snapshot);
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(snapshot, "cluster.local", "istio-system"),
        mesh);
  }

  static String sidecar(String mode) {
    return """
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          outboundTrafficPolicy: {mode: %s}
        """
        .formatted(mode);
  }

  static Proxy proxy() {
    return ServiceEntryClustersTest.sidecar("shop");
  }

  static RouteConfiguration rds(PushContext push) {
    return (RouteConfiguration)
        new SidecarRouteGenerator().generate(proxy(), push, ResourceNames.ALL).get("8080");
  }

  static String catchAll(PushContext push) {
    List<VirtualHost> vhs = rds(push).getVirtualHostsList();
    return vhs.getLast().getName();
  }

  static String unknownTcpCluster(PushContext push) throws Exception {
    Listener l =
        (Listener)
            new SidecarListenerGenerator()
                .generate(proxy(), push, ResourceNames.ALL)
                .get(SidecarListenerGenerator.VIRTUAL_OUTBOUND);
    return l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster();
  }

  @Test
  void outboundTrafficPolicyComesFromMeshConfigUnlessTheSidecarSetsOne() throws Exception {
    MeshConfig registryOnly = mesh("outboundTrafficPolicy: {mode: REGISTRY_ONLY}");
    MeshConfig allowAny = MeshConfig.defaults();

    // No Sidecar, or a Sidecar without the field: the mesh decides, for HTTP and TCP alike.
    for (String config : List.of(ENTRY, ENTRY + "---\n" + sidecarWithoutPolicy())) {
      assertThat(catchAll(push(config, registryOnly))).isEqualTo("block_all");
      assertThat(unknownTcpCluster(push(config, registryOnly))).isEqualTo("BlackHoleCluster");
      assertThat(catchAll(push(config, allowAny))).isEqualTo("allow_any");
      assertThat(unknownTcpCluster(push(config, allowAny))).isEqualTo("PassthroughCluster");
    }
    // The Sidecar's own policy wins in both directions.
    PushContext sidecarAllows = push(ENTRY + sidecar("ALLOW_ANY"), registryOnly);
    assertThat(catchAll(sidecarAllows)).isEqualTo("allow_any");
    assertThat(unknownTcpCluster(sidecarAllows)).isEqualTo("PassthroughCluster");
    PushContext sidecarBlocks = push(ENTRY + sidecar("REGISTRY_ONLY"), allowAny);
    assertThat(catchAll(sidecarBlocks)).isEqualTo("block_all");
    assertThat(unknownTcpCluster(sidecarBlocks)).isEqualTo("BlackHoleCluster");
  }

  static String sidecarWithoutPolicy() {
    return """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          egress: [{hosts: ["*/*"]}]
        """;
  }

  static final String VS =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: a, namespace: shop}
      spec:
        hosts: [a.shop.example]
        http:
        - match: [{uri: {prefix: /own}}]
          retries: {attempts: 7, retryOn: reset}
          route: [{destination: {host: a.shop.example}}]
        - route: [{destination: {host: a.shop.example}}]
      """;

  static List<Route> routes(PushContext push) {
    return rds(push).getVirtualHostsList().stream()
        .filter(v -> v.getName().equals("a.shop.example:8080"))
        .findFirst()
        .orElseThrow()
        .getRoutesList();
  }

  @Test
  void defaultHttpRetryPolicyReplacesIstiosDefaultButVirtualServiceRetriesWin() {
    MeshConfig five = mesh("defaultHttpRetryPolicy: {attempts: 5, retryOn: 'gateway-error,503'}");

    // Without a VirtualService: the one default route takes the mesh policy.
    Route plain = routes(push(ENTRY, five)).getFirst();
    assertThat(plain.getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(5);
    assertThat(plain.getRoute().getRetryPolicy().getRetryOn())
        .isEqualTo("gateway-error,retriable-status-codes");
    assertThat(plain.getRoute().getRetryPolicy().getRetriableStatusCodesList())
        .containsExactly(503);
    // Istio's built-in default without the MeshConfig field.
    assertThat(routes(push(ENTRY, MeshConfig.defaults())).getFirst().getRoute().getRetryPolicy())
        .isEqualTo(SidecarRouteGenerator.DEFAULT_RETRY);

    // With one: its own retries win, its route without retries gets the mesh's.
    List<Route> vs = routes(push(ENTRY + VS, five));
    assertThat(vs.get(0).getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(7);
    assertThat(vs.get(0).getRoute().getRetryPolicy().getRetryOn()).isEqualTo("reset");
    assertThat(vs.get(1).getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(5);

    // attempts: 0 in the mesh turns retries off where a route does not ask for them.
    MeshConfig none = mesh("defaultHttpRetryPolicy: {attempts: 0}");
    assertThat(routes(push(ENTRY, none)).getFirst().getRoute().hasRetryPolicy()).isFalse();
    List<Route> vsNone = routes(push(ENTRY + VS, none));
    assertThat(vsNone.get(0).getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(7);
    assertThat(vsNone.get(1).getRoute().hasRetryPolicy()).isFalse();
  }

  static Cluster cluster(PushContext push) {
    SortedMap<String, Message> cds =
        new ClusterGenerator().generate(proxy(), push, ResourceNames.ALL);
    return (Cluster) cds.get("outbound|8080||a.shop.example");
  }

  @Test
  void enableAutoMtlsOffLeavesClustersPlaintextUnlessADestinationRuleAsksForTls() {
    assertThat(cluster(push(ENTRY, MeshConfig.defaults())).getTransportSocketMatchesCount())
        .isEqualTo(2);
    MeshConfig off = mesh("enableAutoMtls: false");
    Cluster plain = cluster(push(ENTRY, off));
    assertThat(plain.getTransportSocketMatchesCount()).isZero();
    assertThat(plain.hasTransportSocket()).isFalse();
    Cluster withRule =
        cluster(
            push(
                ENTRY
                    + """
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: a, namespace: shop}
                    spec:
                      host: a.shop.example
                      trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                    """,
                off));
    assertThat(withRule.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
  }

  @Test
  void meshMtlsMinimumVersionReachesInboundTlsAsIstiodEmitsIt() {
    var strict = Security.inboundTlsParams(mesh("meshMTLS: {minProtocolVersion: TLSV1_3}"));
    assertThat(strict.getTlsMinimumProtocolVersion())
        .isEqualTo(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol
                .TLSv1_3);
    var dflt = Security.inboundTlsParams(mesh(""));
    assertThat(dflt.getTlsMinimumProtocolVersion())
        .isEqualTo(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol
                .TLSv1_2);
    assertThat(dflt.getTlsMaximumProtocolVersion())
        .isEqualTo(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol
                .TLSv1_3);
    assertThat(dflt.getCipherSuitesList())
        .containsExactly(
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "AES256-GCM-SHA384",
            "AES128-GCM-SHA256");
  }

  @Test
  void trustDomainAndAliasesNameTheUpstreamIdentities() throws Exception {
    MeshConfig td = mesh("trustDomain: corp.example\ntrustDomainAliases: [legacy.example]");
    PushContext push = push(ENTRY, td);
    assertThat(push.trustDomain()).isEqualTo("corp.example");
    assertThat(push.trustDomains()).containsExactly("corp.example", "legacy.example");
    var ctx =
        cluster(push)
            .getTransportSocketMatches(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(
                io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class);
    assertThat(
            ctx
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .getMatchTypedSubjectAltNamesList()
                .stream()
                .map(m -> m.getMatcher().getExact())
                .toList())
        .containsExactly(
            "spiffe://corp.example/ns/shop/sa/a", "spiffe://legacy.example/ns/shop/sa/a");
  }

  @Test
  void aTelemetryResourceStillOverridesMeshWideAccessLogs() {
    MeshConfig logs = mesh("accessLogFile: /tmp/access.log\naccessLogEncoding: TEXT");
    assertThat(
            dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.of(
                    proxy(), push(ENTRY, logs))
                .outboundLogs())
        .singleElement()
        .satisfies(l -> assertThat(l.getName()).isEqualTo("envoy.access_loggers.file"));
    PushContext disabled =
        push(
            ENTRY
                + """
                ---
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: off, namespace: shop}
                spec:
                  accessLogging: [{disabled: true}]
                """,
            logs);
    assertThat(
            dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.of(proxy(), disabled)
                .outboundLogs())
        .isEmpty();
    assertThat(
            dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry.of(
                    proxy(), push(ENTRY, MeshConfig.defaults()))
                .outboundLogs())
        .isEmpty();
  }

  @Test
  void proxyListenPortsAndProtocolDetectionTimeoutShapeTheVirtualListeners() {
    MeshConfig m =
        mesh("proxyListenPort: 16001\nproxyInboundListenPort: 16006\nprotocolDetectionTimeout: 2s");
    SortedMap<String, Message> lds =
        new SidecarListenerGenerator().generate(proxy(), push(ENTRY, m), ResourceNames.ALL);
    Listener out = (Listener) lds.get(SidecarListenerGenerator.VIRTUAL_OUTBOUND);
    Listener in = (Listener) lds.get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    assertThat(out.getAddress().getSocketAddress().getPortValue()).isEqualTo(16001);
    assertThat(in.getAddress().getSocketAddress().getPortValue()).isEqualTo(16006);
    for (Listener l : List.of(out, in)) {
      assertThat(l.getListenerFiltersTimeout().getSeconds()).isEqualTo(2);
      assertThat(l.getContinueOnListenerFiltersTimeout()).isTrue();
    }
    Listener dflt =
        (Listener)
            new SidecarListenerGenerator()
                .generate(proxy(), push(ENTRY, MeshConfig.defaults()), ResourceNames.ALL)
                .get(SidecarListenerGenerator.VIRTUAL_INBOUND);
    assertThat(dflt.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
    assertThat(dflt.hasListenerFiltersTimeout()).isFalse();
  }

  @Test
  void connectTimeoutAndDnsRefreshRateReachEveryCluster() {
    MeshConfig m = mesh("connectTimeout: 250ms\ndnsRefreshRate: 7s");
    PushContext push =
        push(
            ENTRY
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: d, namespace: shop}
                spec:
                  hosts: [d.shop.example]
                  resolution: DNS
                  ports: [{number: 9090, name: tcp, protocol: TCP}]
                """,
            m);
    SortedMap<String, Message> cds =
        new ClusterGenerator().generate(proxy(), push, ResourceNames.ALL);
    for (Message c : cds.values()) {
      assertThat(((Cluster) c).getConnectTimeout().getNanos())
          .as(((Cluster) c).getName())
          .isEqualTo(250_000_000);
    }
    Cluster dns = (Cluster) cds.get("outbound|9090||d.shop.example");
    assertThat(dns.getDnsRefreshRate().getSeconds()).isEqualTo(7);
    assertThat(Map.of("type", dns.getType().name())).containsEntry("type", "STRICT_DNS");
  }

  @Test
  void gatewaysUseTheRemoteAddressAndTrustTheTopologysProxies() throws Exception {
    // istiod's gateway options: use_remote_address, xff_num_trusted_hops = numTrustedProxies
    java.util.function.Function<
            MeshConfig,
            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                .HttpConnectionManager>
        gateway =
            m -> {
              try {
                return Filters.gatewayHcm(
                        "gw", "http.8080", java.util.List.of(), java.util.List.of(), null, m)
                    .getTypedConfig()
                    .unpack(
                        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                            .HttpConnectionManager.class);
              } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
              }
            };
    var dflt = gateway.apply(MeshConfig.defaults());
    assertThat(dflt.getUseRemoteAddress().getValue()).isTrue();
    assertThat(dflt.getXffNumTrustedHops()).isZero();
    var two = gateway.apply(mesh("defaultConfig: {gatewayTopology: {numTrustedProxies: 2}}"));
    assertThat(two.getUseRemoteAddress().getValue()).isTrue();
    assertThat(two.getXffNumTrustedHops()).isEqualTo(2);
  }
}
