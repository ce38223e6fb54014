package dev.bowline.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeParserTest {
  static Node node(String id, Map<String, Value> md) {
    return Node.newBuilder().setId(id).setMetadata(Struct.newBuilder().putAllFields(md)).build();
  }

  static Value s(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  @Test
  void sidecarIdAndMetadata() throws Exception {
    Value labels =
        Value.newBuilder()
            .setStructValue(
                Struct.newBuilder().putFields("app", s("frontend")).putFields("version", s("v1")))
            .build();
    Proxy p =
        NodeParser.parse(
            node(
                "sidecar~10.0.0.5~frontend-abc.weather~weather.svc.cluster.local",
                Map.of(
                    "LABELS", labels,
                    "CLUSTER_ID", s("Kubernetes"),
                    "ISTIO_VERSION", s("1.24.0"),
                    "INTERCEPTION_MODE", s("NONE"))));
    assertThat(p.type()).isEqualTo(NodeType.SIDECAR);
    assertThat(p.ipAddress()).isEqualTo("10.0.0.5");
    assertThat(p.workloadName()).isEqualTo("frontend-abc");
    assertThat(p.namespace()).isEqualTo("weather");
    assertThat(p.dnsDomain()).isEqualTo("weather.svc.cluster.local");
    assertThat(p.labels())
        .containsExactlyInAnyOrderEntriesOf(Map.of("app", "frontend", "version", "v1"));
    assertThat(p.clusterId()).isEqualTo("Kubernetes");
    assertThat(p.istioVersion()).isEqualTo("1.24.0");
    assertThat(p.interceptionMode()).isEqualTo("NONE");
    assertThat(p.isProxylessGrpc()).isFalse();
  }

  @Test
  void proxylessGrpcAndMetadataNamespaceWins() throws Exception {
    Proxy p =
        NodeParser.parse(
            node(
                "router~::1~gw.istio-system~istio-system.svc.cluster.local",
                Map.of("NAMESPACE", s("edge"), "GENERATOR", s("grpc"))));
    assertThat(p.type()).isEqualTo(NodeType.ROUTER);
    assertThat(p.namespace()).isEqualTo("edge");
    assertThat(p.isProxylessGrpc()).isTrue();
    assertThat(p.interceptionMode()).isEqualTo("REDIRECT");
  }

  @Test
  void malformedIdsSayWhatIsWrong() {
    assertThatThrownBy(() -> NodeParser.parse(node("", Map.of())))
        .hasMessageContaining("node id is empty");
    assertThatThrownBy(() -> NodeParser.parse(node("client-1", Map.of())))
        .hasMessage(
            "node id 'client-1' has 1 parts; expected 4: TYPE~IP~name.namespace~namespace.svc.cluster.local");
    assertThatThrownBy(
            () -> NodeParser.parse(node("gateway~1.2.3.4~a.b~b.svc.cluster.local", Map.of())))
        .hasMessage(
            "node id 'gateway~1.2.3.4~a.b~b.svc.cluster.local': type 'gateway' is not sidecar or router");
    assertThatThrownBy(
            () -> NodeParser.parse(node("sidecar~1.2.3~a.b~b.svc.cluster.local", Map.of())))
        .hasMessage(
            "node id 'sidecar~1.2.3~a.b~b.svc.cluster.local': '1.2.3' is not an IP address");
    assertThatThrownBy(() -> NodeParser.parse(node("sidecar~1.2.3.4~a~", Map.of())))
        .hasMessageContaining("no namespace");
  }
}
