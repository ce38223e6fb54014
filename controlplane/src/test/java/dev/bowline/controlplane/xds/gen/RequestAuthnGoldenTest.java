package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * RequestAuthentication as istiod 1.16 emits it, from real YAML: the inbound HTTP filters
 * (jwt_authn with providers {@code origins-<i>} sorted by issuer and istiod's requirement tree,
 * then istio_authn) and the JWKS cluster, checked against {@code golden/request-authn.json}
 * (rewrite with {@code -Dgolden.update=true}); and the scoping by namespace, root namespace and
 * selector.
 */
class RequestAuthnGoldenTest {
  static final String YAML =
      """
      apiVersion: security.istio.io/v1
      kind: RequestAuthentication
      metadata:
        name: forecast-jwt
        namespace: weather
        annotations: {bowline.dev/jwks-cache-duration: 30s}
      spec:
        selector: {matchLabels: {app: forecast}}
        jwtRules:
        - issuer: https://issuer.example
          audiences: [weather]
          jwksUri: http://127.0.0.99:8081/jwks
          fromHeaders: [{name: x-jwt, prefix: "Token "}]
          fromParams: [token]
          fromCookies: [session]
          forwardOriginalToken: true
          outputPayloadToHeader: x-jwt-payload
          outputClaimToHeaders: [{header: x-sub, claim: sub}]
      ---
      apiVersion: security.istio.io/v1beta1
      kind: RequestAuthentication
      metadata: {name: mesh-jwt, namespace: istio-system}
      spec:
        jwtRules:
        - issuer: https://a-mesh.example
          jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}'
      ---
      apiVersion: security.istio.io/v1
      kind: RequestAuthentication
      metadata: {name: other-app, namespace: weather}
      spec:
        selector: {matchLabels: {app: advertisement}}
        jwtRules:
        - issuer: https://ads.example
          jwksUri: https://keys.example/jwks
      """;

  static PushContext push() throws Exception {
    Decoded d = new ResourceCodec().decode("ra.yaml", YAML);
    assertThat(d.rejected()).isEmpty();
    Map<dev.bowline.api.ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    ConfigInputs in =
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system");
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.read(GoldenTest.DIR.resolve("weather-registry.yaml")));
    return new PushContext(1, registry.snapshot(), in);
  }

  static Proxy sidecar(String ip, String ns, String app) {
    return Proxy.builder(
            "sidecar~" + ip + "~" + app + "-v1." + ns + "~" + ns + ".svc.cluster.local",
            NodeType.SIDECAR,
            ip,
            app + "-v1",
            ns,
            ns + ".svc.cluster.local")
        .labels(Map.of("app", app, "version", "v1"))
        .clusterId("Kubernetes")
        .istioVersion("1.24")
        .build();
  }

  static JsonNode lds(Proxy p, PushContext push) throws Exception {
    SortedMap<String, Message> out =
        new Generators()
            .forType(p, TypeUrls.LISTENER)
            .orElseThrow()
            .generate(p, push, ResourceNames.ALL);
    return GoldenTest.JSON.readTree(XdsJson.print(out.get("virtualInbound")));
  }

  /** The HTTP filter list of the first HTTP connection manager of {@code listener}. */
  static JsonNode httpFilters(JsonNode listener) {
    for (JsonNode chain : listener.get("filterChains")) {
      for (JsonNode f : chain.get("filters")) {
        JsonNode tc = f.get("typedConfig");
        if (tc != null && tc.has("httpFilters")) {
          return tc.get("httpFilters");
        }
      }
    }
    throw new AssertionError("no HTTP connection manager");
  }

  @Test
  void forecastGetsItsPoliciesAndTheMeshOnesAsIstiodEmitsThem() throws Exception {
    PushContext push = push();
    Proxy forecast = sidecar("127.0.0.30", "weather", "forecast");
    JsonNode filters = httpFilters(lds(forecast, push));
    ArrayNode authn = GoldenTest.JSON.createArrayNode();
    for (JsonNode f : filters) {
      if (f.get("name").asText().equals(RequestAuthn.JWT_AUTHN)
          || f.get("name").asText().equals(RequestAuthn.ISTIO_AUTHN)) {
        authn.add(f);
      }
    }
    // telemetry first, then authn, then the policy filters and the router
    assertThat(filters.findValuesAsText("name"))
        .containsSubsequence(
            RequestAuthn.JWT_AUTHN, RequestAuthn.ISTIO_AUTHN, Filters.FAULT, Filters.ROUTER);
    SortedMap<String, Message> cds =
        new Generators()
            .forType(forecast, TypeUrls.CLUSTER)
            .orElseThrow()
            .generate(forecast, push, ResourceNames.ALL);
    ObjectNode root = GoldenTest.JSON.createObjectNode();
    root.set("httpFilters", authn);
    root.set(
        "jwksCluster",
        GoldenTest.JSON.readTree(XdsJson.print(cds.get("outbound|8081||127.0.0.99"))));
    String actual = GoldenTest.JSON.writeValueAsString(root) + "\n";
    Path golden = GoldenTest.DIR.resolve("request-authn.json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(golden).exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }

  @Test
  void policiesApplyOnlyWhereTheySelect() throws Exception {
    PushContext push = push();
    // advertisement: its own policy and the mesh one; an https JWKS host gets a TLS cluster
    Proxy ads = sidecar("127.0.0.20", "weather", "advertisement");
    String adsJson = httpFilters(lds(ads, push)).toString();
    assertThat(adsJson).contains("https://ads.example").contains("https://a-mesh.example");
    assertThat(adsJson).doesNotContain("https://issuer.example");
    var cds =
        new Generators()
            .forType(ads, TypeUrls.CLUSTER)
            .orElseThrow()
            .generate(ads, push, ResourceNames.ALL);
    assertThat(XdsJson.print(cds.get("outbound|443||keys.example")))
        .contains("STRICT_DNS")
        .contains("\"sni\": \"keys.example\"");
    assertThat(cds).doesNotContainKey("outbound|8081||127.0.0.99");
    // another namespace: only the root namespace's policy
    Proxy elsewhere = sidecar("127.0.0.60", "shop", "forecast");
    String json =
        XdsJson.print(
            new Generators()
                .forType(elsewhere, TypeUrls.LISTENER)
                .orElseThrow()
                .generate(elsewhere, push, ResourceNames.ALL)
                .get("virtualInbound"));
    if (json.contains(RequestAuthn.JWT_AUTHN)) {
      assertThat(json).contains("https://a-mesh.example").doesNotContain("https://issuer.example");
    }
    // the frontend (no selector match) has the mesh policy only
    String frontend =
        httpFilters(lds(sidecar("127.0.0.10", "weather", "frontend"), push)).toString();
    assertThat(frontend).contains("https://a-mesh.example").doesNotContain("issuer.example");
  }
}
