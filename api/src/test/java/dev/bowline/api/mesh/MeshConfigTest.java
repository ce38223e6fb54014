package dev.bowline.api.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Message;
import dev.bowline.api.ResourceCodec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

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
    // Istio merges extension providers by name: the user's are added to the default ones.
    assertThat(m.extensionProviders())
        .extracting(ExtensionProvider::name)
        .containsExactly("otel", "prometheus", "stackdriver", "envoy");
    assertThat(m.enableAutoMtls()).isTrue();
  }

  @Test
  void aUserProviderReplacesTheDefaultOfTheSameNameAndAliasesAreAUnion() {
    DecodedMeshConfig d =
        codec.decodeMeshConfig(
            "mesh.yaml",
            """
            trustDomainAliases: [old.local, a.local, old.local]
            extensionProviders:
            - {name: envoy, envoyFileAccessLog: {path: /var/log/mesh.log}}
            - name: otel
              opentelemetry:
                service: otel.observability.svc.cluster.local
                port: 4317
                resourceDetectors: {environment: {}}
                dynatraceSampler: {tenant: abc, clusterId: 7, httpService: {service: dt.svc.cluster.local, port: 443}}
            defaultConfig:
              tracingServiceName: CANONICAL_NAME_ONLY
              proxyHeaders:
                server: {value: bowline}
                requestId: {disabled: true}
                forwardedClientCert: SANITIZE_SET
                metadataExchangeHeaders: {mode: IN_MESH}
              gatewayTopology: {numTrustedProxies: 2, proxyProtocol: {}}
              envoyMetricsService: {address: "metrics.svc:15000", tcpKeepalive: {time: 5s}}
              extraStatTags: [request_host]
              runtimeValues: {"re2.max_program_size.error_level": "1000"}
              fileFlushInterval: 2s
            """);
    assertThat(d.errors()).isEmpty();
    MeshConfig m = d.config();
    assertThat(m.extensionProviders())
        .extracting(ExtensionProvider::name)
        .containsExactly("envoy", "otel", "prometheus", "stackdriver");
    var otel = m.extensionProviders().get(1).opentelemetry();
    assertThat(otel.resourceDetectors().environment()).isNotNull();
    assertThat(otel.resourceDetectors().dynatrace()).isNull();
    assertThat(otel.dynatraceSampler().clusterId()).isEqualTo(7);
    assertThat(otel.dynatraceSampler().httpService().port()).isEqualTo(443);
    assertThat(m.extensionProviders().get(0).envoyFileAccessLog().path())
        .isEqualTo("/var/log/mesh.log");
    assertThat(m.trustDomainAliases()).containsExactly("a.local", "old.local");
    var p = m.defaultConfig();
    assertThat(p.tracingServiceName()).isEqualTo(MeshTypes.TracingServiceName.CANONICAL_NAME_ONLY);
    assertThat(p.serviceCluster()).as("a oneof with tracingServiceName").isNull();
    assertThat(p.proxyHeaders().server().value()).isEqualTo("bowline");
    assertThat(p.proxyHeaders().requestId().disabled()).isTrue();
    assertThat(p.proxyHeaders().forwardedClientCert())
        .isEqualTo(MeshTypes.ForwardClientCertDetails.SANITIZE_SET);
    assertThat(p.proxyHeaders().metadataExchangeHeaders().mode())
        .isEqualTo(MeshTypes.ProxyHeaders.MetadataExchangeHeaders.Mode.IN_MESH);
    assertThat(p.gatewayTopology().numTrustedProxies()).isEqualTo(2);
    assertThat(p.gatewayTopology().proxyProtocol()).isNotNull();
    assertThat(p.envoyMetricsService().tcpKeepalive().time()).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.extraStatTags()).containsExactly("request_host");
    assertThat(p.runtimeValues()).containsEntry("re2.max_program_size.error_level", "1000");
    assertThat(p.fileFlushInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(new dev.bowline.api.validation.Validator().validate(m, "mesh.yaml").errors())
        .isEmpty();
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

  @Test
  void defaultsAreValidAndBadValuesAreReportedWithPaths() {
    var validator = new dev.bowline.api.validation.Validator();
    assertThat(validator.validate(MeshConfig.defaults(), "defaults").errors()).isEmpty();
    DecodedMeshConfig d =
        codec.decodeMeshConfig(
            "mesh.yaml",
            """
            rootNamespace: Istio_System
            trustDomain: "*.local"
            connectTimeout: 0s
            proxyListenPort: 70000
            defaultServiceExportTo: ["~", "."]
            extensionProviders:
            - {name: otel, opentelemetry: {port: 4317}}
            - {name: otel, zipkin: {port: 9411}}
            defaultConfig:
              drainDuration: 1500ms
              discoveryAddress: istiod.istio-system.svc
              proxyStatsMatcher: {inclusionRegexps: ["(?!x)"]}
            """);
    assertThat(d.errors()).isEmpty();
    assertThat(validator.validate(d.config(), "mesh.yaml").errors())
        .extracting(Message::toString)
        .containsExactlyInAnyOrder(
            "MeshConfig mesh.yaml: proxyListenPort: port number 70000 must be in the range 1..65535",
            "MeshConfig mesh.yaml: connectTimeout: duration must be at least 1ms",
            "MeshConfig mesh.yaml: rootNamespace: \"Istio_System\" is not a valid namespace",
            "MeshConfig mesh.yaml: trustDomain: \"*.local\" is not a valid trust domain",
            "MeshConfig mesh.yaml: defaultServiceExportTo[0]: \"~\" (visible nowhere) must be the only entry",
            "MeshConfig mesh.yaml: extensionProviders[1].name: extension provider name \"otel\" is not unique",
            "MeshConfig mesh.yaml: extensionProviders[0].opentelemetry.service: service is required",
            "MeshConfig mesh.yaml: extensionProviders[1].zipkin.service: service is required",
            "MeshConfig mesh.yaml: defaultConfig.drainDuration: only whole seconds are supported",
            "MeshConfig mesh.yaml: defaultConfig.discoveryAddress: \"istiod.istio-system.svc\" must be host:port",
            "MeshConfig mesh.yaml: defaultConfig.proxyStatsMatcher.inclusionRegexps[0]: \"(?!x)\" is not a valid RE2 regex: invalid or unsupported Perl syntax");
  }

  /** {@code invalid/meshconfig.yaml}: each document a mesh.yaml preceded by its expected errors. */
  static List<List<String>> meshCases() {
    String text;
    try (InputStream in = MeshConfigTest.class.getResourceAsStream("/invalid/meshconfig.yaml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    List<List<String>> cases = new ArrayList<>();
    for (String doc : text.split("(?m)^---\\s*$")) {
      cases.add(List.of(doc.strip().split("\n")));
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> invalidMeshConfigsReportTheExactFieldPath() {
    var validator = new dev.bowline.api.validation.Validator();
    List<List<String>> cases = meshCases();
    return java.util.stream.IntStream.range(0, cases.size())
        .mapToObj(
            i -> {
              List<String> lines = cases.get(i);
              List<String> expected =
                  lines.stream()
                      .filter(l -> l.startsWith("# expect: "))
                      .map(l -> l.substring("# expect: ".length()))
                      .toList();
              String yaml = String.join("\n", lines) + "\n";
              return DynamicTest.dynamicTest(
                  "meshconfig #" + (i + 1) + " " + expected,
                  () -> {
                    DecodedMeshConfig d = codec.decodeMeshConfig("mesh.yaml", yaml);
                    List<Message> all = new ArrayList<>(d.errors());
                    all.addAll(validator.validate(d.config(), "mesh.yaml").errors());
                    assertThat(expected).isNotEmpty();
                    assertThat(all)
                        .as(yaml)
                        .extracting(m -> m.path() + ": " + m.text())
                        .containsAll(expected);
                    assertThat(all)
                        .allSatisfy(
                            m -> assertThat(m.resource()).isEqualTo("MeshConfig mesh.yaml"));
                  });
            });
  }

  @Test
  void typedSectionsDecodeAndANamedTracerReplacesTheDefaultZipkin() {
    DecodedMeshConfig d =
        codec.decodeMeshConfig(
            "mesh.yaml",
            """
            defaultConfig:
              tracing:
                datadog: {address: "datadog-agent.monitoring:8126"}
                sampling: 10
                customTags: {env: {environment: {name: ENV, defaultValue: dev}}}
            extensionProviders:
            - name: authz
              envoyExtAuthzHttp:
                service: authz.foo.svc.cluster.local
                port: 8000
                includeRequestHeadersInCheck: [x-user]
            - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411, maxTagLength: 256}}
            ca: {address: "ca.example:443", requestTimeout: 10s}
            caCertificates:
            - {spiffeBundleUrl: "https://bundle.example/spiffe", trustDomains: [example.org]}
            discoverySelectors:
            - matchExpressions: [{key: env, operator: In, values: [prod]}]
            """);
    assertThat(d.errors()).isEmpty();
    MeshConfig m = d.config();
    assertThat(new dev.bowline.api.validation.Validator().validate(m, "mesh.yaml").errors())
        .isEmpty();
    var tracing = m.defaultConfig().tracing();
    assertThat(tracing.tracers()).containsExactly("datadog");
    assertThat(tracing.sampling()).isEqualTo(10.0);
    assertThat(tracing.customTags().get("env").environment().name()).isEqualTo("ENV");
    assertThat(m.extensionProviders().get(0).envoyExtAuthzHttp().includeRequestHeadersInCheck())
        .containsExactly("x-user");
    assertThat(m.extensionProviders().get(1).zipkin().maxTagLength()).isEqualTo(256);
    assertThat(m.ca().requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(m.caCertificates().getFirst().trustDomains()).containsExactly("example.org");
    assertThat(m.discoverySelectors().getFirst().matchExpressions().getFirst().values())
        .containsExactly("prod");
    assertThat(MeshConfig.defaults().extensionProviders())
        .extracting(p -> p.set().keySet().iterator().next())
        .containsExactly("prometheus", "stackdriver", "envoyFileAccessLog");
  }

  @Test
  void atLeastFiftyInvalidMeshConfigCases() {
    assertThat(meshCases()).hasSizeGreaterThanOrEqualTo(50);
  }
}
