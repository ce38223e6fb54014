package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy from YAML to the RBAC filters of the inbound chains, as istiod 1.16 emits
 * them: selection (root namespace, namespace, selector), filter order (DENY before ALLOW), rule
 * shapes, allow-nothing, dry-run, HTTP-only fields on TCP chains; plus a golden file of a whole
 * listener set.
 */
class AuthzGenTest {
  static final String REGISTRY =
      """
      services:
      - {namespace: weather, name: forecast, ports: [{name: http-forecast, port: 3002}, {name: tcp-raw, port: 7000}]}
      - {namespace: weather, name: frontend, ports: [{name: http-frontend, port: 3000}]}
      workloads:
      - {namespace: weather, name: forecast-v1-0, labels: {app: forecast, security.istio.io/tlsMode: istio}, address: 127.0.0.3, serviceAccount: forecast}
      - {namespace: weather, name: frontend-v1-0, labels: {app: frontend, security.istio.io/tlsMode: istio}, address: 127.0.0.2, serviceAccount: frontend}
      """;

  static PushContext push(String yaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(REGISTRY, "registry.yaml"));
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    Decoded d = new ResourceCodec().decode("authz.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    d.resources().forEach(r -> m.put(r.key(), r));
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"));
  }

  static Proxy forecast() throws Exception {
    Struct md =
        Struct.newBuilder()
            .putFields("NAMESPACE", str("weather"))
            .putFields("INTERCEPTION_MODE", str("NONE"))
            .putFields(
                "LABELS",
                Value.newBuilder()
                    .setStructValue(Struct.newBuilder().putFields("app", str("forecast")))
                    .build())
            .putFields(
                "POD_PORTS",
                str(
                    "[{\"name\":\"http-forecast\",\"containerPort\":13002},{\"name\":\"tcp-raw\",\"containerPort\":17000}]"))
            .build();
    return NodeParser.parse(
        Node.newBuilder()
            .setId("sidecar~127.0.0.3~forecast-v1-0.weather~weather.svc.cluster.local")
            .setMetadata(md)
            .build());
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static Map<String, Message> lds(PushContext push) throws Exception {
    Proxy p = forecast();
    return new Generators()
        .forType(p, TypeUrls.LISTENER)
        .orElseThrow()
        .generate(p, push, ResourceNames.ALL);
  }

  /** The RBAC HTTP filters of the forecast HTTP port, in order. */
  static List<io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC> httpRbac(PushContext push)
      throws Exception {
    Listener l = (Listener) lds(push).get("127.0.0.3_3002");
    FilterChain chain = l.getFilterChains(0);
    HttpConnectionManager hcm =
        chain.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    List<io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC> out =
        new java.util.ArrayList<>();
    for (HttpFilter f : hcm.getHttpFiltersList()) {
      if (f.getName().equals("envoy.filters.http.rbac")) {
        out.add(
            f.getTypedConfig()
                .unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class));
      }
    }
    return out;
  }

  /** The network filters of the forecast TCP port's chain, by name. */
  static List<Filter> tcpFilters(PushContext push) throws Exception {
    Listener l = (Listener) lds(push).get("127.0.0.3_7000");
    return l.getFilterChains(0).getFiltersList();
  }

  static final String FRONTEND_ONLY =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: frontend-only, namespace: weather}
      spec:
        selector: {matchLabels: {app: forecast}}
        action: ALLOW
        rules:
        - from: [{source: {principals: ["cluster.local/ns/weather/sa/frontend"]}}]
          to: [{operation: {methods: [GET], paths: ["/forecast*"]}}]
      """;

  @Test
  void noPolicyNoFilter() throws Exception {
    assertThat(httpRbac(push(""))).isEmpty();
    // telemetry only: the TCP metadata exchange and stats around no RBAC
    assertThat(tcpFilters(push("")))
        .extracting(Filter::getName)
        .containsExactly(
            "istio.metadata_exchange", "istio.stats", "envoy.filters.network.tcp_proxy");
  }

  @Test
  void aSelectedAllowPolicyBecomesIstiosRbacPolicy() throws Exception {
    var filters = httpRbac(push(FRONTEND_ONLY));
    assertThat(filters).hasSize(1);
    RBAC rules = filters.getFirst().getRules();
    assertThat(rules.getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(filters.getFirst().getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_allow_");
    Policy p = rules.getPoliciesOrThrow("ns[weather]-policy[frontend-only]-rule[0]");
    var principal = p.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0);
    assertThat(principal.getAuthenticated().getPrincipalName().getExact())
        .isEqualTo("spiffe://cluster.local/ns/weather/sa/frontend");
    var perms = p.getPermissions(0).getAndRules();
    assertThat(perms.getRules(0).getOrRules().getRules(0).getHeader().getName())
        .isEqualTo(":method");
    assertThat(perms.getRules(1).getOrRules().getRules(0).getUrlPath().getPath().getPrefix())
        .isEqualTo("/forecast");
  }

  @Test
  void selectorsNamespacesAndTheRootNamespaceDecideWhatApplies() throws Exception {
    String yaml =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: mesh-deny-admin, namespace: istio-system}
        spec:
          action: DENY
          rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: other-app, namespace: weather}
        spec:
          selector: {matchLabels: {app: frontend}}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: other-ns, namespace: legacy}
        spec: {}
        ---
        """
            + FRONTEND_ONLY;
    var filters = httpRbac(push(yaml));
    // DENY before ALLOW; the frontend's and another namespace's policies do not apply
    assertThat(filters)
        .extracting(f -> f.getRules().getAction())
        .containsExactly(RBAC.Action.DENY, RBAC.Action.ALLOW);
    assertThat(filters.get(0).getRules().getPoliciesMap())
        .containsOnlyKeys("ns[istio-system]-policy[mesh-deny-admin]-rule[0]");
    assertThat(filters.get(1).getRules().getPoliciesMap())
        .containsOnlyKeys("ns[weather]-policy[frontend-only]-rule[0]");
  }

  @Test
  void allowNothingAndDryRun() throws Exception {
    String yaml =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-nothing, namespace: weather}
        spec: {}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: try-deny
          namespace: weather
          annotations: {"istio.io/dry-run": "true"}
        spec:
          action: DENY
          rules: [{from: [{source: {namespaces: ["legacy*"]}}]}]
        """;
    var filters = httpRbac(push(yaml));
    assertThat(filters).hasSize(2);
    var deny = filters.get(0);
    assertThat(deny.hasRules()).isFalse();
    assertThat(deny.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_deny_");
    var ns =
        deny.getShadowRules()
            .getPoliciesOrThrow("ns[weather]-policy[try-deny]-rule[0]")
            .getPrincipals(0)
            .getAndIds()
            .getIds(0)
            .getOrIds()
            .getIds(0);
    assertThat(ns.getAuthenticated().getPrincipalName().getSafeRegex().getRegex())
        .isEqualTo(".*/ns/legacy.*/.*");
    var allow = filters.get(1).getRules();
    Policy never = allow.getPoliciesOrThrow("ns[weather]-policy[allow-nothing]-rule[0]");
    assertThat(never.getPermissions(0).getNotRule().getAny()).isTrue();
    assertThat(never.getPrincipals(0).getNotId().getAny()).isTrue();
  }

  @Test
  void httpOnlyFieldsOnTcpDropAllowRulesAndNarrowDenyRules() throws Exception {
    String yaml =
        FRONTEND_ONLY
            + """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-ip, namespace: weather}
            spec:
              action: DENY
              rules:
              - from: [{source: {ipBlocks: ["10.0.0.0/8"]}}]
                to: [{operation: {methods: [POST]}}]
            """;
    List<Filter> all = tcpFilters(push(yaml));
    // istiod's order: metadata exchange, RBAC (deny, then allow), stats, tcp_proxy
    assertThat(all)
        .extracting(Filter::getName)
        .containsExactly(
            "istio.metadata_exchange",
            "envoy.filters.network.rbac",
            "envoy.filters.network.rbac",
            "istio.stats",
            "envoy.filters.network.tcp_proxy");
    List<Filter> tcp = all.subList(1, 4);
    var deny =
        tcp.get(0)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    assertThat(deny.getStatPrefix()).isEqualTo("tcp.");
    Policy p = deny.getRules().getPoliciesOrThrow("ns[weather]-policy[deny-ip]-rule[0]");
    // the method is dropped: the permission is any, the IP block stays
    assertThat(p.getPermissions(0).getAndRules().getRules(0).getAny()).isTrue();
    assertThat(
            p.getPrincipals(0)
                .getAndIds()
                .getIds(0)
                .getOrIds()
                .getIds(0)
                .getDirectRemoteIp()
                .getAddressPrefix())
        .isEqualTo("10.0.0.0");
    var allow =
        tcp.get(1)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    // the ALLOW rule uses methods and paths: dropped, so nothing is allowed on TCP
    assertThat(allow.getRules().getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(allow.getRules().getPoliciesMap()).isEmpty();
  }

  @Test
  void conditionsAndRequestPrincipalsUseIstioAuthnMetadata() throws Exception {
    String yaml =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: jwt, namespace: weather}
        spec:
          rules:
          - from: [{source: {requestPrincipals: ["https://issuer.example/*"], notRequestPrincipals: ["*/banned"]}}]
            when:
            - {key: "request.auth.claims[groups]", values: [admins]}
            - {key: "request.headers[x-tenant]", values: ["acme*"]}
            - {key: destination.port, values: ["3002"]}
            - {key: connection.sni, values: ["*.weather.svc.cluster.local"]}
        """;
    Policy p =
        httpRbac(push(yaml))
            .getFirst()
            .getRules()
            .getPoliciesOrThrow("ns[weather]-policy[jwt]-rule[0]");
    var ids = p.getPrincipals(0).getAndIds();
    var rp = ids.getIds(0).getOrIds().getIds(0).getMetadata();
    assertThat(rp.getFilter()).isEqualTo("istio_authn");
    assertThat(rp.getPath(0).getKey()).isEqualTo("request.auth.principal");
    assertThat(rp.getValue().getStringMatch().getPrefix()).isEqualTo("https://issuer.example/");
    var notRp = ids.getIds(1).getNotId().getOrIds().getIds(0).getMetadata();
    assertThat(notRp.getValue().getStringMatch().getSuffix()).isEqualTo("/banned");
    var claim = ids.getIds(2).getOrIds().getIds(0).getMetadata();
    assertThat(claim.getPathList())
        .extracting(s -> s.getKey())
        .containsExactly("request.auth.claims", "groups");
    assertThat(claim.getValue().getListMatch().getOneOf().getStringMatch().getExact())
        .isEqualTo("admins");
    assertThat(ids.getIds(3).getOrIds().getIds(0).getHeader().getStringMatch().getPrefix())
        .isEqualTo("acme");
    var perms = p.getPermissions(0).getAndRules();
    assertThat(perms.getRules(0).getOrRules().getRules(0).getDestinationPort()).isEqualTo(3002);
    assertThat(perms.getRules(1).getOrRules().getRules(0).getRequestedServerName().getSuffix())
        .isEqualTo(".weather.svc.cluster.local");
  }

  @Test
  void goldenListenersOfAWorkloadWithPolicies() throws Exception {
    String yaml =
        FRONTEND_ONLY
            + """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-ip, namespace: weather}
            spec:
              action: DENY
              rules:
              - from: [{source: {remoteIpBlocks: ["10.0.0.0/8"], notNamespaces: [weather]}}]
                to: [{operation: {hosts: ["*.example.com"], notPaths: ["/healthz"], ports: ["3002"]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: audit-posts, namespace: weather}
            spec:
              action: AUDIT
              rules: [{to: [{operation: {methods: [POST]}}]}]
            """;
    ObjectNode root = GoldenTest.JSON.createObjectNode();
    for (var e : new java.util.TreeMap<>(lds(push(yaml))).entrySet()) {
      root.set(e.getKey(), GoldenTest.JSON.readTree(XdsJson.print(e.getValue())));
    }
    String actual = GoldenTest.JSON.writeValueAsString(root) + "\n";
    Path golden = GoldenTest.DIR.resolve("forecast-authz-lds.json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
    }
    assertThat(golden)
        .as("golden file (write it with -Dgolden.update=true, then review it)")
        .exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }
}
