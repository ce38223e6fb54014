package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.Telemetry;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * The connection managers' {@code tracing} and the routes' decorators istiod 1.16 writes for the
 * frontend's sidecar, from a mesh.yaml with OpenTelemetry and Zipkin providers and Telemetry
 * resources; checked against {@code golden/frontend-sidecar-tracing-*.json} (rewrite with {@code
 * -Dgolden.update=true}).
 */
class TracingGoldenTest {
  static final String MESH =
      """
      enableTracing: true
      defaultConfig:
        tracing: {sampling: 2.5}
      defaultProviders: {tracing: [otel]}
      extensionProviders:
      - name: otel
        opentelemetry: {service: otel-collector.istio-system.svc.cluster.local, port: 4317}
      - name: zipkin
        zipkin: {service: istio-system/zipkin.istio-system.svc.cluster.local, port: 9411, maxTagLength: 100}
      """;

  static final String TELEMETRY =
      """
      apiVersion: telemetry.istio.io/v1alpha1
      kind: Telemetry
      metadata: {name: weather, namespace: weather}
      spec:
        tracing:
        - randomSamplingPercentage: 25
          customTags:
            team: {literal: {value: weather}}
            user: {header: {name: x-user, defaultValue: nobody}}
            pod: {environment: {name: POD_NAME, defaultValue: unknown}}
      ---
      apiVersion: telemetry.istio.io/v1alpha1
      kind: Telemetry
      metadata: {name: frontend, namespace: weather}
      spec:
        selector: {matchLabels: {app: frontend}}
        tracing:
        - match: {mode: SERVER}
          providers: [{name: zipkin}]
      """;

  static final String COLLECTORS =
      """
      - namespace: istio-system
        name: otel-collector
        ports: [{name: grpc-otlp, port: 4317}]
      - namespace: istio-system
        name: zipkin
        ports: [{name: http-zipkin, port: 9411}]
      """;

  @SuppressWarnings("unchecked")
  static PushContext push(String meshYaml, String telemetryYaml) throws Exception {
    String registryYaml =
        Files.readString(GoldenTest.DIR.resolve("weather-registry.yaml"))
            .replace("services:\n", "services:\n" + COLLECTORS);
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(registryYaml, "registry.yaml"));
    ResourceCodec codec = new ResourceCodec();
    var decoded = codec.decodeMeshConfig("mesh.yaml", meshYaml);
    assertThat(decoded.errors()).isEmpty();
    MeshConfig mesh = decoded.config();
    List<Resource<Telemetry>> telemetries =
        telemetryYaml.isEmpty()
            ? List.of()
            : codec.decode("t.yaml", telemetryYaml).resources().stream()
                .map(r -> (Resource<Telemetry>) r)
                .toList();
    ConfigInputs none = ConfigInputs.NONE;
    return new PushContext(
        1,
        registry.snapshot(),
        new ConfigInputs(
            none.virtualServices(), none.destinationRules(), none.sidecars(), () -> telemetries),
        mesh);
  }

  static SortedMap<String, Message> lds(PushContext push) throws Exception {
    Proxy proxy = GoldenTest.frontend("REDIRECT");
    return new Generators()
        .forType(proxy, TypeUrls.LISTENER)
        .orElseThrow()
        .generate(proxy, push, ResourceNames.ALL);
  }

  static HttpConnectionManager hcm(Listener l, int chain) throws Exception {
    return l.getFilterChains(chain)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  @Test
  void frontendSidecarTracingMatchesTheGoldenFile() throws Exception {
    SortedMap<String, Message> out = lds(push(MESH, TELEMETRY));
    ObjectNode root = GoldenTest.JSON.createObjectNode();
    for (Map.Entry<String, Message> e : out.entrySet()) {
      root.set(e.getKey(), GoldenTest.JSON.readTree(XdsJson.print(e.getValue())));
    }
    String actual = GoldenTest.JSON.writeValueAsString(root) + "\n";
    Path golden = GoldenTest.DIR.resolve("frontend-sidecar-tracing-lds.json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));

    // What the golden file shows, spelled out: outbound (client side) goes to the default
    // OpenTelemetry provider at 25%, inbound (server side) to the workload's Zipkin provider.
    Listener outbound = (Listener) out.get("0.0.0.0_3000");
    HttpConnectionManager.Tracing client = hcm(outbound, 0).getTracing();
    assertThat(client.getProvider().getName()).isEqualTo("envoy.tracers.opentelemetry");
    var otel = client.getProvider().getTypedConfig().unpack(OpenTelemetryConfig.class);
    assertThat(otel.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo("outbound|4317||otel-collector.istio-system.svc.cluster.local");
    assertThat(otel.getGrpcService().getEnvoyGrpc().getAuthority())
        .isEqualTo("otel-collector.istio-system.svc.cluster.local");
    assertThat(client.getRandomSampling().getValue()).isEqualTo(25.0);
    assertThat(client.getClientSampling().getValue()).isEqualTo(100.0);
    assertThat(client.getCustomTagsList())
        .extracting(t -> t.getTag())
        .contains("istio.canonical_service", "istio.namespace", "team", "user", "pod")
        .isSorted();
    Listener inbound = (Listener) out.get("virtualInbound");
    HttpConnectionManager.Tracing server = null;
    for (int i = 0; i < inbound.getFilterChainsCount(); i++) {
      var f = inbound.getFilterChains(i).getFilters(0);
      if (f.getName().equals("envoy.filters.network.http_connection_manager")) {
        server = hcm(inbound, i).getTracing();
        break;
      }
    }
    assertThat(server).isNotNull();
    var zipkin = server.getProvider().getTypedConfig().unpack(ZipkinConfig.class);
    assertThat(zipkin.getCollectorCluster())
        .isEqualTo("outbound|9411||zipkin.istio-system.svc.cluster.local");
    assertThat(zipkin.getCollectorEndpoint()).isEqualTo("/api/v2/spans");
    assertThat(zipkin.getTraceId128Bit()).isTrue();
    assertThat(zipkin.getSharedSpanContext().getValue()).isFalse();
    assertThat(server.getMaxPathTagLength().getValue()).isEqualTo(100);
  }

  @Test
  void withoutTelemetryMeshConfigTracingHasNoProviderAndIstiosDefaultSampling() throws Exception {
    SortedMap<String, Message> out = lds(push("enableTracing: true\n", ""));
    HttpConnectionManager.Tracing t = hcm((Listener) out.get("0.0.0.0_3000"), 0).getTracing();
    assertThat(t.hasProvider()).isFalse();
    assertThat(t.getRandomSampling().getValue()).isEqualTo(1.0);
    SortedMap<String, Message> off = lds(push("enableTracing: false\n", ""));
    assertThat(hcm((Listener) off.get("0.0.0.0_3000"), 0).hasTracing()).isFalse();
  }

  @Test
  void anUnknownCollectorServiceLeavesTracingOff() throws Exception {
    SortedMap<String, Message> out =
        lds(
            push(
                """
                defaultProviders: {tracing: [otel]}
                extensionProviders:
                - name: otel
                  opentelemetry: {service: nowhere.istio-system.svc.cluster.local, port: 4317}
                """,
                ""));
    assertThat(hcm((Listener) out.get("0.0.0.0_3000"), 0).hasTracing()).isFalse();
  }
}
