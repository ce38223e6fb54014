package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * Istio security config from YAML to xDS: auto mTLS (transport_socket_matches and endpoint
 * tlsMode), DestinationRule TLS modes (with port-level and subset overrides), PeerAuthentication
 * (mesh, namespace, workload, port level, UNSET inheritance) shaping the inbound chains.
 */
class SecurityGenTest {
  static final String REGISTRY =
      """
      services:
      - {namespace: weather, name: forecast, ports: [{name: http-forecast, port: 3002}, {name: http-admin, port: 9090}]}
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      - {namespace: legacy, name: old, ports: [{name: http, port: 8080}]}
      workloads:
      - {namespace: weather, name: forecast-v1-0, labels: {app: forecast, version: v1, security.istio.io/tlsMode: istio}, address: 127.0.0.3, serviceAccount: forecast}
      - {namespace: weather, name: frontend-v1-0, labels: {app: frontend, security.istio.io/tlsMode: istio}, address: 127.0.0.2, serviceAccount: frontend}
      - {namespace: legacy, name: old-0, labels: {app: old}, address: 127.0.0.9, serviceAccount: old}
      """;

  static PushContext push(String yaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(REGISTRY, "registry.yaml"));
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    if (!yaml.isBlank()) {
      Decoded d = new ResourceCodec().decode("security.yaml", yaml);
      assertThat(d.rejected()).isEmpty();
      d.resources().forEach(r -> m.put(r.key(), r));
    }
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  static Proxy sidecar(String ip, String name, String app) throws Exception {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("NAMESPACE", string("weather"))
            .putFields("INTERCEPTION_MODE", string("NONE"))
            .putFields(
                "LABELS",
                Value.newBuilder()
                    .setStructValue(
                        Struct.newBuilder()
                            .putFields("app", string(app))
                            .putFields("security.istio.io/tlsMode", string("istio")))
                    .build())
            .putFields(
                "POD_PORTS",
                string(
                    "[{\"name\":\"http-forecast\",\"containerPort\":13002},{\"name\":\"http-admin\",\"containerPort\":19090},{\"name\":\"http-frontend\",\"containerPort\":13000}]"));
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~" + ip + "~" + name + ".weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  static Proxy forecast() throws Exception {
    return sidecar("127.0.0.3", "forecast-v1-0", "forecast");
  }

  static Proxy frontend() throws Exception {
    return sidecar("127.0.0.2", "frontend-v1-0", "frontend");
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static SortedMap<String, Message> gen(Proxy p, String type, PushContext push) {
    return new Generators().forType(p, type).orElseThrow().generate(p, push, ResourceNames.ALL);
  }

  static UpstreamTlsContext upstream(io.envoyproxy.envoy.config.core.v3.TransportSocket ts)
      throws Exception {
    assertThat(ts.getName()).isEqualTo("envoy.transport_sockets.tls");
    return ts.getTypedConfig().unpack(UpstreamTlsContext.class);
  }

  @Test
  void withoutRulesClustersUseAutoMtlsAndSidecarEndpointsAreMarked() throws Exception {
    PushContext push = push("");
    Cluster c =
        (Cluster)
            gen(frontend(), TypeUrls.CLUSTER, push)
                .get("outbound|3002||forecast.weather.svc.cluster.local");
    assertThat(c.hasTransportSocket()).isFalse();
    assertThat(c.getTransportSocketMatchesList())
        .extracting(Cluster.TransportSocketMatch::getName)
        .containsExactly("tlsMode-istio", "tlsMode-disabled");
    var istio = c.getTransportSocketMatches(0);
    assertThat(istio.getMatch().getFieldsMap().get("tlsMode").getStringValue()).isEqualTo("istio");
    UpstreamTlsContext ctx = upstream(istio.getTransportSocket());
    assertThat(ctx.getSni()).isEqualTo("outbound_.3002_._.forecast.weather.svc.cluster.local");
    var common = ctx.getCommonTlsContext();
    assertThat(common.getAlpnProtocolsList()).containsExactly("istio-peer-exchange", "istio");
    assertThat(common.getTlsCertificateSdsSecretConfigs(0).getName()).isEqualTo("default");
    assertThat(
            common
                .getTlsCertificateSdsSecretConfigs(0)
                .getSdsConfig()
                .getApiConfigSource()
                .getGrpcServices(0)
                .getEnvoyGrpc()
                .getClusterName())
        .isEqualTo("sds-grpc");
    var cv = common.getCombinedValidationContext();
    assertThat(cv.getValidationContextSdsSecretConfig().getName()).isEqualTo("ROOTCA");
    assertThat(cv.getDefaultValidationContext().getMatchTypedSubjectAltNamesList())
        .extracting(m -> m.getMatcher().getExact())
        .containsExactly("spiffe://cluster.local/ns/weather/sa/forecast");
    assertThat(c.getTransportSocketMatches(1).getTransportSocket().getName())
        .isEqualTo("envoy.transport_sockets.raw_buffer");

    var eds = gen(frontend(), TypeUrls.ENDPOINT, push);
    ClusterLoadAssignment forecast =
        (ClusterLoadAssignment) eds.get("outbound|3002||forecast.weather.svc.cluster.local");
    assertThat(
            forecast
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getMetadata()
                .getFilterMetadataMap()
                .get("envoy.transport_socket_match")
                .getFieldsMap()
                .get("tlsMode")
                .getStringValue())
        .isEqualTo("istio");
    ClusterLoadAssignment old =
        (ClusterLoadAssignment) eds.get("outbound|8080||old.legacy.svc.cluster.local");
    assertThat(old.getEndpoints(0).getLbEndpoints(0).hasMetadata())
        .as("a workload without a sidecar gets plaintext")
        .isFalse();
  }

  @Test
  void destinationRuleTlsModesPortLevelAndSubsets() throws Exception {
    PushContext push =
        push(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: forecast, namespace: weather}
            spec:
              host: forecast
              trafficPolicy:
                tls: {mode: ISTIO_MUTUAL, sni: forecast.custom}
                portLevelSettings:
                - port: {number: 9090}
                  tls: {mode: DISABLE}
              subsets:
              - name: v1
                labels: {version: v1}
                trafficPolicy:
                  tls:
                    mode: MUTUAL
                    clientCertificate: /etc/certs/client.pem
                    privateKey: /etc/certs/key.pem
                    caCertificates: /etc/certs/ca.pem
                    subjectAltNames: [forecast.example.com]
                    sni: v1.forecast
            """);
    var cds = gen(frontend(), TypeUrls.CLUSTER, push);
    Cluster main = (Cluster) cds.get("outbound|3002||forecast.weather.svc.cluster.local");
    assertThat(main.getTransportSocketMatchesList()).as("explicit mode, no auto mTLS").isEmpty();
    UpstreamTlsContext istio = upstream(main.getTransportSocket());
    assertThat(istio.getSni()).isEqualTo("forecast.custom");
    assertThat(istio.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("default");

    Cluster admin = (Cluster) cds.get("outbound|9090||forecast.weather.svc.cluster.local");
    assertThat(admin.hasTransportSocket()).isFalse();
    assertThat(admin.getTransportSocketMatchesList()).as("DISABLE: plaintext").isEmpty();

    Cluster v1 = (Cluster) cds.get("outbound|3002|v1|forecast.weather.svc.cluster.local");
    UpstreamTlsContext mutual = upstream(v1.getTransportSocket());
    assertThat(mutual.getSni()).isEqualTo("v1.forecast");
    var common = mutual.getCommonTlsContext();
    assertThat(common.getTlsCertificates(0).getCertificateChain().getFilename())
        .isEqualTo("/etc/certs/client.pem");
    assertThat(common.getTlsCertificates(0).getPrivateKey().getFilename())
        .isEqualTo("/etc/certs/key.pem");
    assertThat(common.getValidationContext().getTrustedCa().getFilename())
        .isEqualTo("/etc/certs/ca.pem");
    @SuppressWarnings("deprecation")
    List<String> sans =
        common.getValidationContext().getMatchSubjectAltNamesList().stream()
            .map(s -> s.getExact())
            .toList();
    assertThat(sans).containsExactly("forecast.example.com");
  }

  static List<FilterChain> inboundChains(Listener l) {
    return l.getFilterChainsList();
  }

  static Listener forecastInbound(PushContext push, int port) throws Exception {
    return (Listener) gen(forecast(), TypeUrls.LISTENER, push).get("127.0.0.3_" + port);
  }

  @Test
  void peerAuthenticationShapesTheInboundChains() throws Exception {
    // Default: PERMISSIVE, a TLS chain and a plaintext one behind the tls_inspector
    Listener permissive = forecastInbound(push(""), 3002);
    assertThat(permissive.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.tls_inspector");
    assertThat(permissive.getFilterChainsList())
        .extracting(c -> c.getFilterChainMatch().getTransportProtocol())
        .containsExactly("tls", "raw_buffer");
    DownstreamTlsContext server =
        permissive
            .getFilterChains(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(DownstreamTlsContext.class);
    assertThat(server.getRequireClientCertificate().getValue()).isTrue();
    assertThat(server.getCommonTlsContext().getAlpnProtocolsList())
        .containsExactly("h2", "http/1.1");
    assertThat(
            server
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .getMatchTypedSubjectAltNames(0)
                .getMatcher()
                .getPrefix())
        .isEqualTo("spiffe://cluster.local/");
    assertThat(permissive.getFilterChains(1).hasTransportSocket()).isFalse();

    // Mesh STRICT, namespace UNSET (inherits STRICT), workload DISABLE on the admin port only
    PushContext push =
        push(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: weather}
            spec: {mtls: {mode: UNSET}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: forecast-admin, namespace: weather}
            spec:
              selector: {matchLabels: {app: forecast}}
              portLevelMtls:
                "19090": {mode: DISABLE}
            """);
    Listener strict = forecastInbound(push, 3002);
    assertThat(strict.getFilterChainsList())
        .extracting(c -> c.getFilterChainMatch().getTransportProtocol())
        .containsExactly("tls");
    Listener admin = forecastInbound(push, 9090);
    assertThat(admin.getListenerFiltersList()).isEmpty();
    assertThat(admin.getFilterChainsList()).hasSize(1);
    assertThat(admin.getFilterChains(0).hasTransportSocket()).isFalse();

    // A DISABLEd workload port loses its tlsMode metadata, so clients send it plaintext
    PushContext disabled =
        push(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: forecast, namespace: weather}
            spec:
              selector: {matchLabels: {app: forecast}}
              mtls: {mode: DISABLE}
            """);
    ClusterLoadAssignment cla =
        (ClusterLoadAssignment)
            gen(frontend(), TypeUrls.ENDPOINT, disabled)
                .get("outbound|3002||forecast.weather.svc.cluster.local");
    assertThat(cla.getEndpoints(0).getLbEndpoints(0).hasMetadata()).isFalse();
    assertThat(forecastInbound(disabled, 3002).getFilterChainsList()).hasSize(1);
  }
}
