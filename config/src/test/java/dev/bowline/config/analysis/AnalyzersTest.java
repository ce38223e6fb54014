package dev.bowline.config.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.config.ConfigFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnalyzersTest {
  private static final Path WEATHER = Path.of("src/test/resources/weather");
  private final ResourceCodec codec = new ResourceCodec();

  private List<Resource<?>> weather(String... extra) throws Exception {
    List<Resource<?>> all = new ArrayList<>();
    for (Path f : ConfigFiles.expand(List.of(WEATHER))) {
      if (!ConfigFiles.isMeshConfig(f)) {
        Decoded d = codec.decode(f.toString(), Files.readString(f));
        assertThat(d.errors()).isEmpty();
        all.addAll(d.resources());
      }
    }
    for (String yaml : extra) {
      Decoded d = codec.decode("extra", yaml);
      assertThat(d.errors()).isEmpty();
      all.addAll(d.resources());
    }
    return all;
  }

  private List<String> analyze(List<Resource<?>> resources) {
    return Analyzers.run(new AnalysisContext(resources, MeshConfig.defaults()), Analyzers.all())
        .stream()
        .map(AnalysisMessage::toString)
        .toList();
  }

  @Test
  void theWeatherAppIsClean() throws Exception {
    assertThat(analyze(weather())).isEmpty();
  }

  @Test
  void referencedResourcesMustExist() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: ads, namespace: weather}
                spec:
                  hosts: [ads.example.com]
                  gateways: [ads-gateway, frontend-gateway]
                  http:
                  - route:
                    - destination: {host: advertisment}
                    - destination: {host: forecast, subset: v3}
                      weight: 5
                ---
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: egress, namespace: weather}
                spec:
                  selector: {istio: egressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*"]
                """));
    assertThat(messages)
        .containsExactly(
            "Error [IST0101] (Gateway weather/egress) Referenced selector not found: \"istio=egressgateway\"",
            "Error [IST0101] (VirtualService weather/ads) Referenced host not found: \"advertisment\"",
            "Error [IST0101] (VirtualService weather/ads) Referenced host+subset in destinationrule not found: \"forecast+v3\"",
            "Error [IST0101] (VirtualService weather/ads) Referenced gateway not found: \"ads-gateway\"",
            "Warning [IST0132] (VirtualService weather/ads) one or more host [ads.example.com] defined in VirtualService weather/ads not found in Gateway weather/frontend-gateway.");
  }

  @Test
  void conflictsAcrossResources() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: forecast-2, namespace: weather}
                spec:
                  hosts: [forecast.weather.svc.cluster.local]
                  http:
                  - route:
                    - destination: {host: forecast}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: forecast-plain, namespace: weather}
                spec:
                  host: forecast.weather.svc.cluster.local
                  trafficPolicy: {tls: {mode: DISABLE}}
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: second, namespace: weather}
                spec:
                  egress: [{hosts: ["./*"]}]
                """));
    assertThat(messages)
        .contains(
            "Error [IST0109] (VirtualService weather/forecast) The VirtualServices weather/forecast,weather/forecast-2 associated with mesh gateway define the same host */forecast.weather.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
            "Error [IST0113] (DestinationRule weather/forecast-plain) A DestinationRule and Policy are in conflict with regards to mTLS for host forecast.weather.svc.cluster.local. The DestinationRule \"weather/forecast-plain\" specifies that mTLS must be false but the Policy object \"istio-system/default\" specifies Strict.",
            "Error [IST0111] (Sidecar weather/default) The Sidecars [default, second] in namespace \"weather\" have no workload selector, which can lead to undefined behavior.",
            "Warning [BWL0001] (DestinationRule weather/forecast) The DestinationRules weather/forecast,weather/forecast-plain in one namespace define the same host forecast.weather.svc.cluster.local; only their subsets merge, the first traffic policy wins.");
  }

  @Test
  void validationFindingsAreReportedWithIstioCodes() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: ads, namespace: weather}
                spec:
                  host: advertisement
                  trafficPolicy:
                    outlierDetection: {consecutiveErrors: 5}
                    tls: {mode: SIMPLE}
                """));
    assertThat(messages)
        .containsExactly(
            "Warning [IST0002] (DestinationRule weather/ads) Deprecated: spec.trafficPolicy.outlierDetection.consecutiveErrors: deprecated; use consecutive5xxErrors or consecutiveGatewayErrors",
            "Warning [IST0128] (DestinationRule weather/ads) DestinationRule ads in namespace weather has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: advertisement");
  }

  @Test
  void portNamesWithoutProtocolFollowTheConvention() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: legacy, namespace: weather}
                spec:
                  hosts: [legacy.example.com]
                  resolution: DNS
                  ports:
                  - {number: 8080, name: web}
                  - {number: 8443, name: https-admin}
                """));
    assertThat(messages)
        .containsExactly(
            "Info [IST0118] (ServiceEntry weather/legacy) Port name web (port: 8080, targetPort: ) doesn't follow the naming convention of Istio port.");
  }

  @Test
  void extensionProvidersMustBeDefinedInMeshConfig() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ext-authz, namespace: weather}
                spec:
                  action: CUSTOM
                  provider: {name: opa}
                  rules: [{to: [{operation: {paths: [/admin]}}]}]
                ---
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: tracing, namespace: weather}
                spec:
                  tracing: [{providers: [{name: zipkin}]}]
                  metrics: [{providers: [{name: prometheus}]}]
                ---
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: nothing, namespace: weather}
                spec: {}
                """));
    assertThat(messages)
        .containsExactly(
            "Error [IST0101] (AuthorizationPolicy weather/ext-authz) Referenced extension provider not found: \"opa\"",
            "Error [IST0101] (Telemetry weather/tracing) Referenced extension provider not found: \"zipkin\"",
            "Warning [IST0157] (Telemetry weather/nothing) The Telemetry nothing in namespace \"weather\" with empty providers will be ignored.");
  }

  @Test
  void gatewaysForTheSameWorkloadsMustNotServeOverlappingHostsOnOnePort() throws Exception {
    List<String> messages =
        analyze(
            weather(
                """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: promo-gateway, namespace: weather}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*.example.com"]
                  - port: {number: 8080, name: http-alt, protocol: HTTP}
                    hosts: ["weather.example.com"]
                """));
    assertThat(messages)
        .containsExactly(
            "Error [IST0145] (Gateway weather/frontend-gateway) Conflict with gateways weather/promo-gateway (workload selector istio=ingressgateway, port 80, hosts [weather.example.com]).",
            "Error [IST0145] (Gateway weather/promo-gateway) Conflict with gateways weather/frontend-gateway (workload selector istio=ingressgateway, port 80, hosts [*.example.com]).");
  }

  private static String vs(String name, String namespace, String host, String exportTo) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: ["%s"]
          exportTo: %s
          http:
          - route:
            - destination: {host: forecast.weather.svc.cluster.local}
        """
        .formatted(name, namespace, host, exportTo);
  }

  private List<String> ist0109(String... yaml) throws Exception {
    return analyze(weather(yaml)).stream().filter(m -> m.contains("IST0109")).toList();
  }

  @Test
  void meshVirtualServicesConflictOnWildcardOverlapAcrossExportScopes() throws Exception {
    // The weather app's VirtualService "forecast" (exported everywhere) is covered by the
    // wildcard that all-weather keeps to its namespace.
    assertThat(ist0109(vs("all-weather", "weather", "*.weather.svc.cluster.local", "[\".\"]")))
        .containsExactlyInAnyOrder(
            "Error [IST0109] (VirtualService weather/all-weather) The VirtualServices weather/all-weather,weather/forecast associated with mesh gateway define the same host weather/*.weather.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
            "Error [IST0109] (VirtualService weather/forecast) The VirtualServices weather/all-weather,weather/forecast associated with mesh gateway define the same host weather/*.weather.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.");
    // A scoped "*" overlaps every host exported everywhere.
    assertThat(ist0109(vs("catch-all", "weather", "*", "[\".\"]")))
        .hasSize(2)
        .allSatisfy(m -> assertThat(m).contains("define the same host weather/*"));
  }

  @Test
  void meshVirtualServicesInSeparateScopesOrBothExportedWithDifferentHostsDoNotConflict()
      throws Exception {
    // Both exported everywhere: the more specific host wins; Istio reports nothing.
    assertThat(ist0109(vs("all-weather", "weather", "*.weather.svc.cluster.local", "[]")))
        .isEmpty();
    // Same host, but each kept to its own namespace.
    assertThat(
            ist0109(
                vs("a", "team-a", "shared.example.com", "[\".\"]"),
                vs("b", "team-b", "shared.example.com", "[\".\"]")))
        .isEmpty();
    assertThat(
            ist0109(
                vs("a", "team-a", "shared.example.com", "[\".\"]"),
                vs("b", "team-b", "shared.example.com", "[team-a]")))
        .hasSize(2);
  }

  @Test
  void hostOverlapFollowsWildcardSuffixes() {
    assertThat(
            Analyzers.hostsOverlap(
                "*.weather.svc.cluster.local", "forecast.weather.svc.cluster.local"))
        .isTrue();
    assertThat(Analyzers.hostsOverlap("forecast.weather.svc.cluster.local", "*.svc.cluster.local"))
        .isTrue();
    assertThat(Analyzers.hostsOverlap("*.svc.cluster.local", "*.weather.svc.cluster.local"))
        .isTrue();
    assertThat(Analyzers.hostsOverlap("*", "anything.example.com")).isTrue();
    assertThat(
            Analyzers.hostsOverlap(
                "*.weather.svc.cluster.local", "forecast.other.svc.cluster.local"))
        .isFalse();
    assertThat(Analyzers.hostsOverlap("a.example.com", "b.example.com")).isFalse();
  }

  @Test
  void localRegistryServicesAndWorkloadsCountAsFound() throws Exception {
    List<Resource<?>> resources =
        weather(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: billing, namespace: weather}
            spec:
              hosts: [billing]
              http:
              - route:
                - destination: {host: billing}
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: egress, namespace: weather}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: ["*"]
            """);
    List<String> without = analyze(resources);
    assertThat(without)
        .contains(
            "Error [IST0101] (Gateway weather/egress) Referenced selector not found: \"istio=egressgateway\"",
            "Error [IST0101] (VirtualService weather/billing) Referenced host not found: \"billing\"");
    var registry =
        new LocalRegistry(
            List.of(new LocalRegistry.Service("weather", "billing")),
            List.of(
                new LocalRegistry.Workload(
                    "istio-system", "egress-1", java.util.Map.of("istio", "egressgateway"))));
    assertThat(
            Analyzers.run(
                new AnalysisContext(resources, MeshConfig.defaults(), registry), Analyzers.all()))
        .isEmpty();
    // A service in another namespace does not make the short name "billing" found.
    var elsewhere =
        new LocalRegistry(List.of(new LocalRegistry.Service("billing", "billing")), List.of());
    assertThat(
            Analyzers.run(
                    new AnalysisContext(resources, MeshConfig.defaults(), elsewhere),
                    Analyzers.all())
                .stream()
                .map(AnalysisMessage::toString))
        .contains(
            "Error [IST0101] (VirtualService weather/billing) Referenced host not found: \"billing\"");
  }

  @Test
  void sidecarsSelectingOneRegistryWorkloadConflict() throws Exception {
    List<Resource<?>> resources =
        weather(
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: billing-egress, namespace: weather}
            spec:
              workloadSelector: {labels: {app: billing}}
              egress: [{hosts: ["./*"]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: billing-canary-egress, namespace: weather}
            spec:
              workloadSelector: {labels: {version: canary}}
              egress: [{hosts: ["./*"]}]
            """);
    // No WorkloadEntry carries these labels: only the registry's workloads (pods) can conflict.
    assertThat(analyze(resources)).noneMatch(m -> m.contains("IST0110"));
    var registry =
        new LocalRegistry(
            List.of(),
            List.of(
                new LocalRegistry.Workload(
                    "weather",
                    "forecast-v1-0",
                    java.util.Map.of("app", "forecast", "version", "v1")),
                new LocalRegistry.Workload(
                    "weather",
                    "billing-canary-0",
                    java.util.Map.of("app", "billing", "version", "canary"))));
    assertThat(
            Analyzers.run(
                    new AnalysisContext(resources, MeshConfig.defaults(), registry),
                    Analyzers.all())
                .stream()
                .map(AnalysisMessage::toString)
                .filter(m -> m.contains("IST0110")))
        .containsExactlyInAnyOrder(
            "Error [IST0110] (Sidecar weather/billing-egress) The Sidecars [billing-egress, billing-canary-egress] in namespace \"weather\" select the same workload pod \"billing-canary-0\", which can lead to undefined behavior.",
            "Error [IST0110] (Sidecar weather/billing-canary-egress) The Sidecars [billing-egress, billing-canary-egress] in namespace \"weather\" select the same workload pod \"billing-canary-0\", which can lead to undefined behavior.");
  }
}
