package dev.bowline.api.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Message;
import dev.bowline.api.ResourceCodec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshConfigTest {
  private final ResourceCodec codec = new ResourceCodec();

  @Test
  void emptyMeshYamlGivesIstiosDefaults() {
    DecodedMeshConfig d = codec.decodeMeshConfig("mesh.yaml", "# nothing\n");
    assertThat(d.errors()).isEmpty();
    MeshConfig m = d.config();
    assertThat(m.outboundTrafficPolicy().mode())
        .isEqualTo(MeshConfig.OutboundTrafficPolicy.Mode.ALLOW_ANY);
    assertThat(m.enableAutoMtls()).isTrue();
    assertThat(m.rootNamespace()).isEqualTo("istio-system");
    assertThat(m.trustDomain()).isEqualTo("cluster.local");
    assertThat(m.defaultConfig().drainDuration()).isEqualTo(Duration.ofSeconds(45));
    assertThat(m.defaultConfig().discoveryAddress()).isEqualTo("istiod.istio-system.svc:15012");
    assertThat(m.defaultConfig().proxyStatsMatcher().inclusionPrefixes()).isEmpty();
    assertThat(m.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(m).isEqualTo(MeshConfig.defaults());
  }

  @Test
  void meshYamlMergesOverDefaultsFieldByField() {
    DecodedMeshConfig d =
        codec.decodeMeshConfig(
            "mesh.yaml",
            """
            outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            trustDomain: weather.example
            defaultConfig:
              drainDuration: 10s
              proxyStatsMatcher:
                inclusionPrefixes: [cluster.outbound]
              proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
            extensionProviders:
            - name: otel
              opentelemetry: {service: otel.observability.svc.cluster.local, port: 4317}
            """);
    assertThat(d.errors()).isEmpty();
    MeshConfig m = d.config();
    assertThat(m.outboundTrafficPolicy().mode())
        .isEqualTo(MeshConfig.OutboundTrafficPolicy.Mode.REGISTRY_ONLY);
    assertThat(m.trustDomain()).isEqualTo("weather.example");
    assertThat(m.defaultConfig().drainDuration()).isEqualTo(Duration.ofSeconds(10));
    assertThat(m.defaultConfig().discoveryAddress()).isEqualTo("istiod.istio-system.svc:15012");
    assertThat(m.defaultConfig().proxyStatsMatcher().inclusionPrefixes())
        .containsExactly("cluster.outbound");
    assertThat(m.defaultConfig().proxyMetadata()).containsEntry("ISTIO_META_DNS_CAPTURE", "true");
    assertThat(m.extensionProviders())
        .singleElement()
        .extracting(p -> p.get("name"))
        .isEqualTo("otel");
    assertThat(m.enableAutoMtls()).isTrue();
  }

  @Test
  void unknownFieldsAndBadValuesAreErrorsAndLeaveTheDefaults() {
    DecodedMeshConfig d =
        codec.decodeMeshConfig(
            "mesh.yaml",
            """
            enableAutoMTLS: false
            defaultConfig: {drainDurationn: 5s}
            """);
    assertThat(d.errors())
        .extracting(Message::toString)
        .containsExactlyInAnyOrder(
            "MeshConfig mesh.yaml: enableAutoMTLS: unknown field",
            "MeshConfig mesh.yaml: defaultConfig.drainDurationn: unknown field");
    assertThat(d.config()).isEqualTo(MeshConfig.defaults());

    assertThat(codec.decodeMeshConfig("m", "outboundTrafficPolicy: {mode: DENY_ALL}").errors())
        .extracting(Message::toString)
        .containsExactly(
            "MeshConfig m: outboundTrafficPolicy.mode: unknown value \"DENY_ALL\"; must be one of REGISTRY_ONLY, ALLOW_ANY");
    assertThat(codec.decodeMeshConfig("m", "connectTimeout: 10").errors())
        .extracting(Message::path)
        .isEqualTo(List.of("connectTimeout"));
  }
}
