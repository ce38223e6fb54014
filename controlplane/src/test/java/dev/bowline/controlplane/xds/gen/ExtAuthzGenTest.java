package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.api.Decoded;
import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import dev.bowline.controlplane.xds.gen.authz.CustomAuthz;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy CUSTOM with MeshConfig {@code envoyExtAuthzHttp}/{@code envoyExtAuthzGrpc} to
 * the filters istiod 1.16 emits: the CUSTOM rules as shadow RBAC under {@code istio_ext_authz_},
 * then ext_authz enabled by that RBAC's effective policy id, before request authentication and the
 * other RBAC filters; gRPC providers on TCP chains; deny-all with a clear error when the provider
 * cannot be used.
 */
class ExtAuthzGenTest {
  static final String REGISTRY =
      AuthzGenTest.REGISTRY.replace(
          "workloads:",
          "- {namespace: weather, name: ext-authz, ports: [{name: http, port: 8000}, {name: grpc,"
              + " port: 9000}]}\nworkloads:");

  static final String HOST = "ext-authz.weather.svc.cluster.local";

  static final String POLICY =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ext, namespace: weather}
      spec:
        selector: {matchLabels: {app: forecast}}
        action: CUSTOM
        provider: {name: %s}
        rules:
        - to: [{operation: {paths: ["/forecast*"]}}]
        - from: [{source: {namespaces: [weather]}}]
          to: [{operation: {methods: [POST]}}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: deny-admin, namespace: weather}
      spec:
        action: DENY
        rules: [{to: [{operation: {paths: ["/admin"]}}]}]
      """;

  static final String MESH =
      """
      extensionProviders:
      - name: http-authz
        envoyExtAuthzHttp:
          service: %s
          port: 8000
          timeout: 2s
          pathPrefix: /check
          failOpen: true
          statusOnError: "503"
          includeRequestHeadersInCheck: [x-deny, "x-ext-*", "*-token"]
          includeAdditionalHeadersInCheck: {x-zz: "2", x-aa: "1"}
          headersToUpstreamOnAllow: [x-user]
          headersToDownstreamOnDeny: [x-reason]
          headersToDownstreamOnAllow: [x-seen]
          includeRequestBodyInCheck: {maxRequestBytes: 1024, allowPartialMessage: true}
      - name: grpc-authz
        envoyExtAuthzGrpc:
          service: weather/%s
          port: 9000
      """
          .formatted(HOST, HOST);

  static PushContext push(String yaml, String meshYaml) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(REGISTRY, "registry.yaml"));
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    Decoded d = new ResourceCodec().decode("authz.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    d.resources().forEach(r -> m.put(r.key(), r));
    DecodedMeshConfig mc = new ResourceCodec().decodeMeshConfig("mesh.yaml", meshYaml);
    assertThat(mc.errors()).isEmpty();
    MeshConfig mesh = mc.config();
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"),
        mesh);
  }

  static List<HttpFilter> httpFilters(PushContext push) throws Exception {
    Listener l = (Listener) AuthzGenTest.lds(push).get("127.0.0.3_3002");
    return l.getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class)
        .getHttpFiltersList();
  }

  static List<String> names(List<HttpFilter> filters) {
    return filters.stream().map(HttpFilter::getName).toList();
  }

  static <T extends Message> T unpack(HttpFilter f, Class<T> type) throws Exception {
    return f.getTypedConfig().unpack(type);
  }

  static String json(Message m) throws Exception {
    return JsonFormat.printer()
        .omittingInsignificantWhitespace()
        .usingTypeRegistry(
            JsonFormat.TypeRegistry.newBuilder()
                .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
                .build())
        .print(m);
  }

  @Test
  void httpProviderGivesShadowRbacThenExtAuthzBeforeTheOtherRbac() throws Exception {
    PushContext push = push(POLICY.formatted("http-authz"), MESH);
    List<HttpFilter> filters = httpFilters(push);
    List<String> names = names(filters);
    int custom = names.indexOf("envoy.filters.http.ext_authz");
    assertThat(custom).isPositive();
    assertThat(names.get(custom - 1)).isEqualTo("envoy.filters.http.rbac");
    // the DENY policy's RBAC filter comes after ext_authz (istiod: CUSTOM, authn, then authz)
    assertThat(names.subList(custom + 1, names.size())).contains("envoy.filters.http.rbac");

    var shadow =
        unpack(
            filters.get(custom - 1),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(shadow.hasRules()).isFalse();
    assertThat(shadow.getShadowRulesStatPrefix()).isEqualTo("istio_ext_authz_");
    assertThat(shadow.getShadowRules().getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(shadow.getShadowRules().getPoliciesMap().keySet())
        .containsExactlyInAnyOrder(
            "istio-ext-authz-ns[weather]-policy[ext]-rule[0]",
            "istio-ext-authz-ns[weather]-policy[ext]-rule[1]");
    assertThat(
            json(
                shadow
                    .getShadowRules()
                    .getPoliciesOrThrow("istio-ext-authz-ns[weather]-policy[ext]-rule[0]")))
        .contains("\"prefix\":\"/forecast\"");

    ExtAuthz ext = unpack(filters.get(custom), ExtAuthz.class);
    assertThat(json(ext))
        .isEqualTo(
            "{\"failureModeAllow\":true,\"httpService\":{\"serverUri\":{\"uri\":\"http://"
                + HOST
                + "\",\"cluster\":\"outbound|8000||"
                + HOST
                + "\",\"timeout\":\"2s\"},\"pathPrefix\":\"/check\","
                + "\"authorizationRequest\":{\"allowedHeaders\":{\"patterns\":["
                + "{\"exact\":\"x-deny\",\"ignoreCase\":true},"
                + "{\"prefix\":\"x-ext-\",\"ignoreCase\":true},"
                + "{\"suffix\":\"-token\",\"ignoreCase\":true}]},"
                + "\"headersToAdd\":[{\"key\":\"x-aa\",\"value\":\"1\"},{\"key\":\"x-zz\",\"value\":\"2\"}]},"
                + "\"authorizationResponse\":{"
                + "\"allowedUpstreamHeaders\":{\"patterns\":[{\"exact\":\"x-user\",\"ignoreCase\":true}]},"
                + "\"allowedClientHeaders\":{\"patterns\":[{\"exact\":\"x-reason\",\"ignoreCase\":true}]},"
                + "\"allowedClientHeadersOnSuccess\":{\"patterns\":[{\"exact\":\"x-seen\",\"ignoreCase\":true}]}}},"
                + "\"withRequestBody\":{\"maxRequestBytes\":1024,\"allowPartialMessage\":true},"
                + "\"statusOnError\":{\"code\":\"ServiceUnavailable\"},"
                + "\"transportApiVersion\":\"V3\","
                + "\"filterEnabledMetadata\":{\"filter\":\"envoy.filters.http.rbac\","
                + "\"path\":[{\"key\":\"istio_ext_authz_shadow_effective_policy_id\"}],"
                + "\"value\":{\"stringMatch\":{\"prefix\":\"istio-ext-authz\"}}}}");

    // an HTTP provider has nothing to do on a TCP chain (istiod ignores it there)
    List<Filter> tcp = AuthzGenTest.tcpFilters(push);
    assertThat(tcp.stream().map(Filter::getName))
        .doesNotContain(CustomAuthz.NETWORK_EXT_AUTHZ)
        .filteredOn(n -> n.equals("envoy.filters.network.rbac"))
        .hasSize(1); // the DENY policy's
  }

  @Test
  void grpcProviderOnHttpAndTcpChains() throws Exception {
    PushContext push = push(POLICY.formatted("grpc-authz"), MESH);
    List<HttpFilter> filters = httpFilters(push);
    ExtAuthz ext =
        unpack(filters.get(names(filters).indexOf(CustomAuthz.HTTP_EXT_AUTHZ)), ExtAuthz.class);
    assertThat(json(ext))
        .isEqualTo(
            "{\"grpcService\":{\"envoyGrpc\":{\"clusterName\":\"outbound|9000||"
                + HOST
                + "\",\"authority\":\"outbound_.9000_._."
                + HOST
                + "\"},\"timeout\":\"600s\"},"
                + "\"transportApiVersion\":\"V3\","
                + "\"filterEnabledMetadata\":{\"filter\":\"envoy.filters.http.rbac\","
                + "\"path\":[{\"key\":\"istio_ext_authz_shadow_effective_policy_id\"}],"
                + "\"value\":{\"stringMatch\":{\"prefix\":\"istio-ext-authz\"}}}}");

    List<Filter> tcp = AuthzGenTest.tcpFilters(push);
    // after TCP metadata exchange (istiod's first inbound TCP filter): CUSTOM, then RBAC
    List<String> tcpNames = tcp.stream().map(Filter::getName).toList();
    assertThat(tcpNames.getFirst()).isEqualTo("istio.metadata_exchange");
    assertThat(tcpNames.subList(1, 4))
        .containsExactly(
            "envoy.filters.network.rbac",
            CustomAuthz.NETWORK_EXT_AUTHZ,
            "envoy.filters.network.rbac");
    var netShadow =
        tcp.get(1)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    assertThat(netShadow.getStatPrefix()).isEqualTo("tcp.");
    assertThat(netShadow.getShadowRulesStatPrefix()).isEqualTo("istio_ext_authz_");
    // on TCP a DENY-shaped rule loses its HTTP-only values: rule 0 (paths only) matches every
    // connection, rule 1 keeps its namespace
    assertThat(netShadow.getShadowRules().getPoliciesMap()).hasSize(2);
    var netExt =
        tcp.get(2)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.class);
    assertThat(netExt.getStatPrefix()).isEqualTo("tcp.");
    assertThat(netExt.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo("outbound|9000||" + HOST);
    assertThat(netExt.getFilterEnabledMetadata().getFilter())
        .isEqualTo("envoy.filters.network.rbac");
    assertThat(tcpNames.getLast()).isEqualTo("envoy.filters.network.tcp_proxy");
  }

  @Test
  void grpcProviderCarriesTheRequestBodySettingsAsIstiodDoes() throws Exception {
    // istiod 1.16 (extauthz.go withBodyRequest): includeRequestBodyInCheck's three fields become
    // with_request_body as they are, for gRPC providers as for HTTP ones
    String mesh =
        MESH.replace(
            "    port: 9000\n",
            "    port: 9000\n"
                + "    includeRequestBodyInCheck: {maxRequestBytes: 4096, packAsBytes: true}\n");
    PushContext push = push(POLICY.formatted("grpc-authz"), mesh);
    List<HttpFilter> filters = httpFilters(push);
    ExtAuthz ext =
        unpack(filters.get(names(filters).indexOf(CustomAuthz.HTTP_EXT_AUTHZ)), ExtAuthz.class);
    assertThat(json(ext.getWithRequestBody()))
        .isEqualTo("{\"maxRequestBytes\":4096,\"packAsBytes\":true}");
  }

  @Test
  void unknownProviderDeniesEverythingWithAnErrorNamingPolicyAndField() throws Exception {
    PushContext push = push(POLICY.formatted("nope"), MESH);
    CustomAuthz c = CustomAuthz.of(AuthzGenTest.forecast(), push);
    assertThat(c.errors())
        .containsExactly(
            "AuthorizationPolicy weather/ext: spec.provider.name: extension provider \"nope\" not"
                + " found in MeshConfig extensionProviders (ext_authz providers: [http-authz,"
                + " grpc-authz])");
    List<HttpFilter> filters = httpFilters(push);
    assertThat(names(filters)).doesNotContain(CustomAuthz.HTTP_EXT_AUTHZ);
    var deny =
        unpack(
            filters.get(names(filters).indexOf("envoy.filters.http.rbac")),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(json(deny.getRules()))
        .isEqualTo(
            "{\"action\":\"DENY\",\"policies\":{\"default-deny-all-due-to-bad-CUSTOM-action\":"
                + "{\"permissions\":[{\"any\":true}],\"principals\":[{\"any\":true}]}}}");
    var netDeny =
        AuthzGenTest.tcpFilters(push).stream()
            .filter(f -> f.getName().equals("envoy.filters.network.rbac"))
            .findFirst()
            .orElseThrow()
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    assertThat(netDeny.getRules().getPoliciesMap())
        .containsOnlyKeys("default-deny-all-due-to-bad-CUSTOM-action");
  }

  @Test
  void brokenProviderAndTwoProvidersAlsoDenyEverything() throws Exception {
    String mesh =
        """
        extensionProviders:
        - name: http-authz
          envoyExtAuthzHttp: {service: missing.weather.svc.cluster.local, port: 8000}
        """;
    CustomAuthz c =
        CustomAuthz.of(AuthzGenTest.forecast(), push(POLICY.formatted("http-authz"), mesh));
    assertThat(c.errors()).hasSize(1);
    assertThat(c.errors().getFirst())
        .startsWith(
            "AuthorizationPolicy weather/ext: spec.provider.name: found errors in provider \"http-authz\"")
        .contains(
            "extensionProviders[0].envoyExtAuthzHttp.service: could not find service"
                + " missing.weather.svc.cluster.local in the service registry");

    String two =
        POLICY.formatted("http-authz")
            + """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ext2, namespace: weather}
            spec:
              action: CUSTOM
              provider: {name: grpc-authz}
              rules: [{to: [{operation: {methods: [PUT]}}]}]
            """;
    CustomAuthz c2 = CustomAuthz.of(AuthzGenTest.forecast(), push(two, MESH));
    assertThat(c2.errors().getFirst())
        .contains("spec.provider.name: only 1 provider can be used per workload");
    assertThat(c2.http()).hasSize(1);
  }

  @Test
  void dryRunCustomPoliciesNeverEnableTheAuthorizer() throws Exception {
    String dry =
        POLICY
            .formatted("http-authz")
            .replace(
                "metadata: {name: ext, namespace: weather}",
                "metadata: {name: ext, namespace: weather, annotations: {istio.io/dry-run: \"true\"}}");
    List<HttpFilter> filters = httpFilters(push(dry, MESH));
    var shadow =
        unpack(
            filters.get(names(filters).indexOf(CustomAuthz.HTTP_EXT_AUTHZ) - 1),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(shadow.hasShadowRules()).isFalse();
    assertThat(shadow.hasRules()).isFalse();
  }
}
