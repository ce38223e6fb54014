package dev.bowline.proxy.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapLoaderTest {
  private final BootstrapLoader loader = new BootstrapLoader();

  static final String YAML =
      """
      node: {id: n1, cluster: c1}
      static_resources:
        listeners:
        - name: l1
          address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
          filter_chains:
          - filters:
            - name: hcm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: in
                rds: {route_config_name: r1, config_source: {ads: {}}}
      dynamic_resources:
        ads_config: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
        cds_config: {ads: {}}
      """;

  @Test
  void readsYamlWithTypedConfigs() throws Exception {
    var b = loader.parse("b.yaml", YAML);
    assertThat(b.getNode().getId()).isEqualTo("n1");
    var hcm =
        b.getStaticResources()
            .getListeners(0)
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("r1");
    assertThat(
            b.getDynamicResources()
                .getAdsConfig()
                .getGrpcServices(0)
                .getEnvoyGrpc()
                .getClusterName())
        .isEqualTo("xds");
  }

  @Test
  void readsJsonFiles(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("b.json");
    Files.writeString(
        f,
        "{\"node\": {\"id\": \"j\"}, \"admin\": {\"address\": {\"socketAddress\": {\"address\": \"127.0.0.1\", \"portValue\": 15000}}}}");
    var b = loader.load(f);
    assertThat(b.getNode().getId()).isEqualTo("j");
    assertThat(b.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
  }

  @Test
  void unknownFieldIsAnErrorNamingTheField() {
    assertThatThrownBy(() -> loader.parse("b.yaml", "node: {id: n1, clustr: x}"))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining("b.yaml")
        .hasMessageContaining("clustr")
        .hasMessageContaining("envoy.config.core.v3.Node");
  }

  @Test
  void unknownExtensionTypeIsAnErrorNamingTheType() {
    String yaml =
        YAML.replace(
            "http_connection_manager.v3.HttpConnectionManager", "redis_proxy.v3.RedisProxy");
    assertThatThrownBy(() -> loader.parse("b.yaml", yaml))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining(
            "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy");
  }

  @Test
  void notYamlIsAClearError() {
    assertThatThrownBy(() -> loader.parse("b.yaml", "- just\n- a list"))
        .isInstanceOf(BootstrapException.class)
        .hasMessage("b.yaml: the bootstrap must be a YAML or JSON object");
  }

  @Test
  void typesNestedInsideAnyAreResolvedToo() throws Exception {
    // Only the types a bootstrap names are built (decision 0030): the RBAC inside the connection
    // manager's Any must be found as well as the connection manager itself.
    String indent = " ".repeat(10); // the connection manager's fields in YAML
    String filters =
        String.join(
            "\n" + indent,
            "http_filters:",
            "- name: envoy.filters.http.rbac",
            "  typed_config:",
            "    \"@type\": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "    rules: {action: DENY, policies: {p1: {permissions: [{any: true}],"
                + " principals: [{any: true}]}}}",
            "- name: envoy.filters.http.router",
            "  typed_config: {\"@type\":"
                + " type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}");
    String rds = "rds: {route_config_name: r1, config_source: {ads: {}}}";
    String yaml = YAML.replace(rds, rds + "\n" + indent + filters);
    var b = loader.parse("b.yaml", yaml);
    var hcm =
        b.getStaticResources()
            .getListeners(0)
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    var rbac =
        hcm.getHttpFilters(0)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(rbac.getRules().getPoliciesMap()).containsKey("p1");
    assertThat(hcm.getHttpFilters(1).getName()).isEqualTo("envoy.filters.http.router");
  }

  @Test
  void plainScalarsAreTypedAsYamlResolvesThemAndQuotedOnesStayText() {
    // YAML 1.1 as snakeyaml resolves it (and Jackson's YAML parser did): hex and _ integers,
    // yes/no booleans, floats; a quoted scalar is a string even when it looks like a number.
    var b =
        loader.parse(
            "b.yaml",
            """
            node: {id: "0123", cluster: 1_000}
            admin: {address: &a {socket_address: {address: 127.0.0.1, port_value: 0x3a98}}}
            static_resources:
              listeners:
              - name: l1
                address: *a
                use_original_dst: yes
                per_connection_buffer_limit_bytes: 1_024
                bind_to_port: off
              clusters:
              - name: c1
                connect_timeout: 0.25s
                common_lb_config: {healthy_panic_threshold: {value: 12.5}}
                dns_lookup_family: ~
            """);
    assertThat(b.getNode().getId()).isEqualTo("0123");
    assertThat(b.getNode().getCluster()).isEqualTo("1000");
    assertThat(b.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
    var l = b.getStaticResources().getListeners(0);
    assertThat(l.getAddress()).isEqualTo(b.getAdmin().getAddress()); // the alias
    assertThat(l.getUseOriginalDst().getValue()).isTrue();
    assertThat(l.getPerConnectionBufferLimitBytes().getValue()).isEqualTo(1024);
    assertThat(l.hasBindToPort()).isTrue();
    assertThat(l.getBindToPort().getValue()).isFalse();
    var c = b.getStaticResources().getClusters(0);
    assertThat(c.getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    assertThat(c.getCommonLbConfig().getHealthyPanicThreshold().getValue()).isEqualTo(12.5);
  }

  @Test
  void stringsKeepEveryCharacterThroughTheJsonStep() {
    // quotes, backslashes, control characters and non-ASCII text survive the YAML -> JSON step
    var b =
        loader.parse(
            "b.yaml",
            """
            node: {id: "say \\"hi\\" C:\\\\tmp\\ttab\\u0001 grüße ✓", cluster: 'it''s'}
            """);
    assertThat(b.getNode().getId()).isEqualTo("say \"hi\" C:\\tmp\ttab\u0001 grüße ✓");
    assertThat(b.getNode().getCluster()).isEqualTo("it's");
  }

  @Test
  void textThatIsNotYamlIsAClearErrorWithItsLine() {
    assertThatThrownBy(() -> loader.parse("b.yaml", "node: {id: n1\nadmin: [\n"))
        .isInstanceOf(BootstrapException.class)
        .hasMessageStartingWith("b.yaml: not valid YAML/JSON: ")
        .hasMessageContaining("line");
  }
}
