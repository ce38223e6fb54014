package dev.bowline.controlplane.xds.gen.telemetry;

import static dev.bowline.controlplane.xds.gen.telemetry.TelemetryResolverTest.FORECAST;
import static dev.bowline.controlplane.xds.gen.telemetry.TelemetryResolverTest.mesh;
import static dev.bowline.controlplane.xds.gen.telemetry.TelemetryResolverTest.telemetries;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Telemetry {@code tracing} resolved per side, mesh then namespace then workload, as istiod. */
class TracingResolverTest {
  static final String PROVIDERS =
      """
      extensionProviders:
      - name: otel
        opentelemetry: {service: otel-collector.istio-system.svc.cluster.local, port: 4317}
      - name: zipkin
        zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
      - name: logs
        envoyFileAccessLog: {path: /dev/stdout}
      """;

  @Test
  void withoutTelemetryOrDefaultProviderTheMeshConfigFallbackApplies() {
    var t = TelemetryResolver.resolve(mesh(PROVIDERS), List.of(), "weather", FORECAST);
    assertThat(t.clientTracing()).isNull();
    assertThat(t.serverTracing()).isNull();
  }

  @Test
  void theDefaultProviderTracesBothSidesAndLevelsOverrideIt() {
    var all =
        telemetries(
            """
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              tracing:
              - randomSamplingPercentage: 10
                customTags:
                  team: {literal: {value: weather}}
            ---
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: ns, namespace: weather}
            spec:
              tracing:
              - randomSamplingPercentage: 50
                customTags:
                  user: {header: {name: x-user, defaultValue: nobody}}
            ---
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: forecast, namespace: weather}
            spec:
              selector: {matchLabels: {app: forecast}}
              tracing:
              - match: {mode: SERVER}
                providers: [{name: zipkin}]
              - match: {mode: CLIENT}
                disableSpanReporting: true
            """);
    var t =
        TelemetryResolver.resolve(
            mesh(PROVIDERS + "defaultProviders: {tracing: [otel]}\n"), all, "weather", FORECAST);
    assertThat(t.serverTracing().provider().name()).isEqualTo("zipkin");
    assertThat(t.serverTracing().randomSamplingPercentage()).isEqualTo(50.0);
    assertThat(t.serverTracing().customTags()).containsOnlyKeys("team", "user");
    assertThat(t.serverTracing().disabled()).isFalse();
    assertThat(t.clientTracing().provider().name()).isEqualTo("otel");
    assertThat(t.clientTracing().disabled()).isTrue();

    var other =
        TelemetryResolver.resolve(
            mesh(PROVIDERS + "defaultProviders: {tracing: [otel]}\n"),
            all,
            "weather",
            java.util.Map.of("app", "frontend"));
    assertThat(other.serverTracing().provider().name()).isEqualTo("otel");
    assertThat(other.clientTracing().disabled()).isFalse();
  }

  @Test
  void aTelemetryWithoutATracingProviderTurnsTracingOffAndUnknownProvidersWarn() {
    var metricsOnly =
        telemetries(
            """
            apiVersion: telemetry.istio.io/v1alpha1
            kind: Telemetry
            metadata: {name: m, namespace: istio-system}
            spec:
              tracing:
              - providers: [{name: logs}]
              - providers: [{name: nope}]
                match: {mode: SERVER}
            """);
    var t = TelemetryResolver.resolve(mesh(PROVIDERS), metricsOnly, "weather", FORECAST);
    assertThat(t.clientTracing().disabled()).isTrue();
    assertThat(t.serverTracing().disabled()).isTrue();
    assertThat(t.warnings())
        .anyMatch(w -> w.contains("spec.tracing[0].providers[0]") && w.contains("'logs'"))
        .anyMatch(w -> w.contains("spec.tracing[1].providers[0]") && w.contains("'nope'"));
  }
}
