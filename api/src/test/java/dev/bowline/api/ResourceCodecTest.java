package dev.bowline.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.StringMatch;
import dev.bowline.api.model.VirtualService;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ResourceCodecTest {
  /** {@code valid/<kind in lower case>.yaml}, one per kind. */
  static final List<String> VALID =
      java.util.Arrays.stream(Kind.values())
          .map(k -> k.kindName().toLowerCase(java.util.Locale.ROOT) + ".yaml")
          .toList();

  private final ResourceCodec codec = new ResourceCodec();

  private Decoded decodeFixture(String name) {
    return codec.decode(name, Fixtures.read("valid/" + name));
  }

  static Stream<String> valid() {
    return VALID.stream();
  }

  @ParameterizedTest
  @MethodSource("valid")
  void validFixturesDecodeWithoutErrors(String name) {
    Decoded d = decodeFixture(name);
    assertThat(d.errors()).isEmpty();
    assertThat(d.resources()).isNotEmpty();
  }

  @Test
  void fixturesCoverEveryKind() {
    Set<Kind> seen = EnumSet.noneOf(Kind.class);
    VALID.forEach(n -> decodeFixture(n).resources().forEach(r -> seen.add(r.kind())));
    assertThat(seen).containsExactlyInAnyOrder(Kind.values());
  }

  @ParameterizedTest
  @MethodSource("valid")
  void yamlToModelToYamlAndJsonGivesTheSameModel(String name) {
    List<Resource<?>> first = decodeFixture(name).resources();
    String yaml = codec.toYaml(first);
    Decoded again = codec.decode("round-trip", yaml);
    assertThat(again.errors()).isEmpty();
    assertThat(again.resources()).isEqualTo(first);
    for (Resource<?> r : first) {
      Decoded fromJson = codec.decode("json", codec.toJson(r));
      assertThat(fromJson.errors()).isEmpty();
      assertThat(fromJson.resources()).containsExactly(r);
    }
  }

  @Test
  void readsTypedValues() {
    Resource<VirtualService> vs =
        decodeFixture("virtualservice.yaml")
            .resources()
            .getFirst()
            .as(VirtualService.class)
            .orElseThrow();
    assertThat(vs.key()).hasToString("VirtualService weather/forecast");
    assertThat(vs.labels()).containsEntry("app", "forecast");
    VirtualService.HTTPRoute canary = vs.spec().http().getFirst();
    assertThat(canary.timeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(canary.retries().perTryTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(canary.match().getFirst().uri().match()).isEqualTo(new StringMatch.Prefix("/api"));
    assertThat(canary.match().getFirst().headers().get("x-canary").match())
        .isEqualTo(new StringMatch.Exact("true"));
    assertThat(vs.spec().http().get(1).route()).extracting(r -> r.weight()).containsExactly(90, 10);
    assertThat(vs.spec().http().get(1).corsPolicy().maxAge()).isEqualTo(Duration.ofHours(24));

    Resource<DestinationRule> dr =
        decodeFixture("destinationrule.yaml")
            .resources()
            .getFirst()
            .as(DestinationRule.class)
            .orElseThrow();
    assertThat(dr.spec().trafficPolicy().loadBalancer().policy())
        .isEqualTo(
            new DestinationRule.LoadBalancerSettings.Simple(
                DestinationRule.LoadBalancerSettings.SimpleLB.LEAST_REQUEST));
    assertThat(dr.spec().trafficPolicy().outlierDetection().interval())
        .isEqualTo(Duration.ofMinutes(5));
    assertThat(dr.spec().subsets().get(1).trafficPolicy().loadBalancer().policy())
        .isInstanceOf(DestinationRule.LoadBalancerSettings.ConsistentHashLB.class);
  }

  @Test
  void valuesAreImmutable() {
    VirtualService vs =
        (VirtualService) decodeFixture("virtualservice.yaml").resources().getFirst().spec();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> vs.hosts().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> vs.http().getFirst().match().getFirst().headers().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  private List<String> errors(String yaml) {
    return codec.decode("test.yaml", yaml).errors().stream().map(Message::toString).toList();
  }

  @Test
  void everyUnknownFieldIsAnErrorWithItsPath() {
    assertThat(
            errors(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: forecast, namespace: weather, colour: red}
                spec:
                  hosts: [forecast]
                  htp: []
                  http:
                  - route:
                    - destination: {host: forecast, subset: v1, subzet: v2}
                      wieght: 10
                """))
        .containsExactlyInAnyOrder(
            "VirtualService weather/forecast: metadata.colour: unknown field",
            "VirtualService weather/forecast: spec.htp: unknown field",
            "VirtualService weather/forecast: spec.http[0].route[0].destination.subzet: unknown field",
            "VirtualService weather/forecast: spec.http[0].route[0].wieght: unknown field");
  }

  @Test
  void unknownKindAndVersionAreErrors() {
    assertThat(
            errors(
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualServise
                metadata: {name: a}
                ---
                apiVersion: networking.istio.io/v2
                kind: Gateway
                metadata: {name: b}
                spec: {}
                """))
        .hasSize(2)
        .satisfiesExactly(
            m ->
                assertThat(m)
                    .startsWith(
                        "VirtualServise default/a: kind: unknown kind \"VirtualServise\"; Bowline reads VirtualService, "),
            m ->
                assertThat(m)
                    .isEqualTo(
                        "Gateway default/b: apiVersion: unknown version \"networking.istio.io/v2\" of Gateway; served as networking.istio.io/v1alpha3, networking.istio.io/v1beta1, networking.istio.io/v1"));
  }

  @Test
  void kubernetesKindsAreNamedAsSuch() {
    assertThat(
            errors(
                """
                apiVersion: v1
                kind: Service
                metadata: {name: forecast, namespace: weather}
                spec: {ports: [{port: 3000}]}
                """))
        .singleElement()
        .asString()
        .startsWith(
            "Service weather/forecast: kind: \"Service\" (v1) is not an Istio kind; Bowline reads VirtualService, ");
  }

  @Test
  void wrongTypesNameTheField() {
    assertThat(
            errors(
                """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: a, namespace: n}
                spec:
                  host: a
                  trafficPolicy:
                    connectionPool:
                      tcp: {maxConnections: "100"}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: b, namespace: n}
                spec:
                  host: b
                  trafficPolicy:
                    tls: {mode: MUTAL}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: c, namespace: n}
                spec:
                  host: c
                  trafficPolicy:
                    outlierDetection: {interval: 5 minutes}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: d, namespace: n}
                spec:
                  host: d
                  subsets: {name: v1}
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: e, namespace: n}
                spec:
                  hosts: [e]
                  http:
                  - match:
                    - uri: {exact: /a, prefix: /b}
                """))
        .containsExactly(
            "DestinationRule n/a: spec.trafficPolicy.connectionPool.tcp.maxConnections: must be a whole number",
            "DestinationRule n/b: spec.trafficPolicy.tls.mode: unknown value \"MUTAL\"; must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL",
            "DestinationRule n/c: spec.trafficPolicy.outlierDetection.interval: invalid duration \"5 minutes\"; write a number with a unit, e.g. 10s, 1.5s, 100ms",
            "DestinationRule n/d: spec.subsets: must be a list",
            "VirtualService n/e: spec.http[0].match[0].uri: only one of exact, prefix, regex may be set");
  }

  @Test
  void oneBadDocumentDoesNotHideTheOthers() {
    Decoded d =
        codec.decode(
            "mixed.yaml",
            """
            # a comment before the first separator
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: good-1, namespace: n}
            spec: {selector: {istio: ingressgateway}}
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: bad, namespace: n}
            spec: {selectr: {}}
            ---
            # only a comment
            ---
            this: [is not: valid
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: good-2, namespace: n}
            """);
    assertThat(d.resources()).extracting(Resource::name).containsExactly("good-1", "good-2");
    assertThat(d.rejected()).hasSize(2);
    assertThat(d.rejected().get(0).key()).isEqualTo(new ResourceKey(Kind.GATEWAY, "n", "bad"));
    assertThat(d.rejected().get(0).errors())
        .extracting(Message::toString)
        .containsExactly("Gateway n/bad: spec.selectr: unknown field");
    assertThat(d.rejected().get(1).key()).isNull();
    assertThat(d.rejected().get(1).errors().getFirst().toString())
        .startsWith("mixed.yaml document 5: line 16: not valid YAML/JSON");
  }

  @Test
  void readsKubectlLists() {
    Decoded d =
        codec.decode(
            "list.json",
            """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
               "metadata": {"name": "a", "namespace": "n"},
               "spec": {"hosts": ["a.example.com"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}},
              {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
               "metadata": {"name": "b", "namespace": "n"}, "spec": {"hots": []}}
            ]}
            """);
    assertThat(d.resources()).extracting(Resource::name).containsExactly("a");
    assertThat(d.errors())
        .extracting(Message::toString)
        .containsExactly("ServiceEntry n/b: items[1].spec.hots: unknown field");
  }
}
