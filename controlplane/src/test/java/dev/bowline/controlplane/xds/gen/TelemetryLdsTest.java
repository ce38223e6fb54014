package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.model.Telemetry;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Telemetry resources in the config reach the sidecar's connection managers. */
class TelemetryLdsTest {
  @SuppressWarnings("unchecked")
  static PushContext push(String telemetryYaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(LocalModeTest.REGISTRY, "registry.yaml"));
    List<Resource<Telemetry>> telemetries =
        new ResourceCodec()
            .decode("t.yaml", telemetryYaml).resources().stream()
                .map(r -> (Resource<Telemetry>) r)
                .toList();
    ConfigInputs none = ConfigInputs.NONE;
    return new PushContext(
        1,
        registry.snapshot(),
        new ConfigInputs(
            none.virtualServices(), none.destinationRules(), none.sidecars(), () -> telemetries));
  }

  static HttpConnectionManager inboundHcm(PushContext push) throws Exception {
    Proxy proxy =
        LocalModeTest.forecast(
            "[{\"name\":\"http-forecast\",\"containerPort\":13002,\"protocol\":\"TCP\"}]");
    var lds =
        new Generators()
            .forType(proxy, TypeUrls.LISTENER)
            .orElseThrow()
            .generate(proxy, push, ResourceNames.ALL);
    Listener inbound = (Listener) lds.get("127.0.0.3_3002");
    return inbound
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  @Test
  void aNamespaceTelemetryTurnsOnServerAccessLogsAndDropsAMetric() throws Exception {
    HttpConnectionManager hcm =
        inboundHcm(
            push(
                """
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: weather, namespace: weather}
                spec:
                  accessLogging: [{providers: [{name: envoy}], match: {mode: SERVER}}]
                  metrics:
                  - providers: [{name: prometheus}]
                    overrides: [{match: {metric: REQUEST_DURATION}, disabled: true}]
                """));
    assertThat(hcm.getHttpFiltersList())
        .extracting(f -> f.getName())
        .containsExactly(
            "istio.metadata_exchange",
            "istio.stats",
            "envoy.filters.http.fault",
            "envoy.filters.http.cors",
            "envoy.filters.http.router");
    String stats =
        hcm.getHttpFilters(1)
            .getTypedConfig()
            .unpack(Wasm.class)
            .getConfig()
            .getConfiguration()
            .unpack(StringValue.class)
            .getValue();
    assertThat(stats)
        .isEqualTo(
            "{\"debug\":\"false\",\"stat_prefix\":\"istio\",\"metrics\":[{\"name\":\"request_duration_milliseconds\",\"drop\":true}]}");
    assertThat(hcm.getAccessLogCount()).isEqualTo(1);
    assertThat(hcm.getAccessLog(0).getTypedConfig().unpack(FileAccessLog.class).getPath())
        .isEqualTo("/dev/stdout");
  }

  @Test
  void withoutTelemetryThereAreNoAccessLogsAndDefaultStats() throws Exception {
    HttpConnectionManager hcm = inboundHcm(push(""));
    assertThat(hcm.getAccessLogCount()).isZero();
    // metadata exchange, stats, fault, CORS, router
    assertThat(hcm.getHttpFiltersCount()).isEqualTo(5);
  }
}
