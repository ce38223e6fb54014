package dev.bowline.controlplane.xds.gen.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.Telemetry;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Istio YAML (MeshConfig and Telemetry resources) in, the proxy's filters and logs out. */
class TelemetryResolverTest {
  private static final ResourceCodec CODEC = new ResourceCodec();

  static MeshConfig mesh(String yaml) {
    var d = CODEC.decodeMeshConfig("mesh.yaml", yaml);
    assertThat(d.errors()).isEmpty();
    return d.config();
  }

  @SuppressWarnings("unchecked")
  static List<Resource<Telemetry>> telemetries(String yaml) {
    var d = CODEC.decode("telemetry.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    return d.resources().stream().map(r -> (Resource<Telemetry>) r).toList();
  }

  static final Map<String, String> FORECAST = Map.of("app", "forecast", "version", "v2");

  @Test
  void withoutTelemetryIstiosDefaultsApply() {
    var t = TelemetryResolver.resolve(mesh(""), List.of(), "weather", FORECAST);
    assertThat(t.clientStats()).isEqualTo(StatsOverrides.NONE);
    assertThat(t.serverStats()).isEqualTo(StatsOverrides.NONE);
    assertThat(t.clientLogs()).isEmpty();
    assertThat(t.warnings()).isEmpty();
  }

  @Test
  void meshConfigAccessLogFileEncodingAndFormat() {
    var text =
        TelemetryResolver.resolve(
            mesh("accessLogFile: /dev/stdout"), List.of(), "weather", FORECAST);
    assertThat(text.serverLogs())
        .containsExactly(new AccessLogSink("/dev/stdout", false, "", Map.of()));
    var json =
        TelemetryResolver.resolve(
            mesh(
                """
                accessLogFile: /tmp/a.log
                accessLogEncoding: JSON
                accessLogFormat: '{"code": "%RESPONSE_CODE%", "flags": "%RESPONSE_FLAGS%"}'
                """),
            List.of(),
            "weather",
            FORECAST);
    assertThat(json.clientLogs())
        .containsExactly(
            new AccessLogSink(
                "/tmp/a.log",
                true,
                "",
                Map.of("code", "%RESPONSE_CODE%", "flags", "%RESPONSE_FLAGS%")));

    var proto = AccessLogs.of(text.serverLogs()).getFirst();
    assertThat(proto.getName()).isEqualTo("envoy.access_loggers.file");
    assertThat(proto.getTypedConfig().getTypeUrl())
        .isEqualTo("type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog");
  }

  @Test
  void workloadOverridesNamespaceOverridesMesh() throws Exception {
    var all =
        telemetries(
            """
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              accessLogging: [{providers: [{name: envoy}]}]
              metrics:
              - providers: [{name: prometheus}]
                overrides:
                - match: {metric: ALL_METRICS}
                  tagOverrides: {destination_principal: {operation: REMOVE}}
            ---
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: weather, namespace: weather}
            spec:
              metrics:
              - overrides:
                - match: {metric: REQUEST_SIZE, mode: CLIENT}
                  disabled: true
            ---
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: forecast-quiet, namespace: weather}
            spec:
              selector: {matchLabels: {app: forecast}}
              accessLogging: [{match: {mode: CLIENT}, disabled: true}]
            ---
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: other-ns, namespace: shop}
            spec:
              metrics: [{overrides: [{disabled: true}]}]
            """);
    var forecast = TelemetryResolver.resolve(mesh(""), all, "weather", FORECAST);
    assertThat(forecast.clientStats().metrics())
        .isEqualTo(
            Map.of(
                "", new StatsOverrides.Metric(false, java.util.Set.of("destination_principal")),
                "request_bytes", new StatsOverrides.Metric(true, java.util.Set.of())));
    assertThat(forecast.serverStats().metrics())
        .isEqualTo(
            Map.of(
                "", new StatsOverrides.Metric(false, java.util.Set.of("destination_principal"))));
    // the mesh's "envoy" provider logs to /dev/stdout; the workload turned client logs off
    assertThat(forecast.clientLogs()).isEmpty();
    assertThat(forecast.serverLogs())
        .containsExactly(new AccessLogSink("/dev/stdout", false, "", Map.of()));

    // frontend is not selected: both sides log; shop's resource never applies in weather
    var frontend = TelemetryResolver.resolve(mesh(""), all, "weather", Map.of("app", "frontend"));
    assertThat(frontend.clientLogs()).hasSize(1);

    // the stats JSON the proxy reads
    var filters = TelemetryFilters.sidecarOutbound(forecast.clientStats());
    String json =
        filters
            .get(1)
            .getTypedConfig()
            .unpack(Wasm.class)
            .getConfig()
            .getConfiguration()
            .unpack(StringValue.class)
            .getValue();
    assertThat(json)
        .isEqualTo(
            "{\"debug\":\"false\",\"stat_prefix\":\"istio\",\"metrics\":["
                + "{\"drop\":false,\"tags_to_remove\":[\"destination_principal\"]},"
                + "{\"name\":\"request_bytes\",\"drop\":true}]}");
  }

  @Test
  void noPrometheusProviderMeansNoStatsFilter() {
    var t =
        TelemetryResolver.resolve(
            mesh(""),
            telemetries(
                """
                apiVersion: telemetry.istio.io/v1alpha1
                kind: Telemetry
                metadata: {name: mesh-default, namespace: istio-system}
                spec:
                  metrics: [{providers: [{name: stackdriver}]}]
                """),
            "weather",
            FORECAST);
    assertThat(t.clientStats().disabled()).isTrue();
    assertThat(TelemetryFilters.sidecarInbound(t.serverStats()))
        .extracting(f -> f.getName())
        .containsExactly(TelemetryFilters.MX_NAME);
  }

  @Test
  void aCelFilterBecomesEnvoysExtensionFilterOnTheAccessLog() throws Exception {
    var t =
        TelemetryResolver.resolve(
            mesh(""),
            telemetries(
                """
                apiVersion: telemetry.istio.io/v1alpha1
                kind: Telemetry
                metadata: {name: logs, namespace: weather}
                spec:
                  accessLogging:
                  - providers: [{name: envoy}]
                    filter: {expression: "response.code >= 400"}
                """),
            "weather",
            FORECAST);
    assertThat(t.warnings()).isEmpty();
    var log = AccessLogs.of(t.clientLogs()).getFirst();
    assertThat(log.getFilter().getExtensionFilter().getName())
        .isEqualTo("envoy.access_loggers.extension_filters.cel");
    assertThat(
            log.getFilter()
                .getExtensionFilter()
                .getTypedConfig()
                .unpack(
                    io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                        .class)
                .getExpression())
        .isEqualTo("response.code >= 400");
    // and the proxy compiles it
    dev.bowline.proxy.accesslog.CelFilter.compile("response.code >= 400");
    assertThat(
            AccessLogs.of(t.clientLogs())
                .getFirst()
                .getTypedConfig()
                .unpack(FileAccessLog.class)
                .getLogFormat()
                .getTextFormatSource()
                .getInlineString())
        .isEqualTo(AccessLogs.ISTIO_TEXT_FORMAT);
  }
}
