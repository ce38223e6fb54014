package dev.bowline.proxy.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.TextFormat;
import com.google.protobuf.Value;
import dev.bowline.proxy.tls.TlsPeer;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Envoy's RBAC matcher semantics, from protos in text format to decisions. */
class RbacEngineTest {

  /** A request or connection as RBAC sees it. */
  record In(
      Map<String, String> headers,
      @Nullable String path,
      String dst,
      int port,
      String direct,
      String remote,
      @Nullable TlsPeer peer,
      String sni,
      Map<String, Struct> metadata)
      implements RbacInput {
    static In http(String method, String path) {
      return new In(
          Map.of(":method", method, ":path", path, ":authority", "forecast:8080"),
          path.contains("?") ? path.substring(0, path.indexOf('?')) : path,
          "10.0.0.5",
          8080,
          "10.1.2.3",
          "192.168.7.9",
          null,
          "",
          Map.of());
    }

    In withPeer(String spiffe) {
      return new In(
          headers,
          path,
          dst,
          port,
          direct,
          remote,
          new TlsPeer(List.of(), List.of(spiffe), "istio", "TLSv1.3", "x"),
          sni,
          metadata);
    }

    In withHeader(String name, String value) {
      var h = new java.util.HashMap<>(headers);
      h.put(name, value);
      return new In(h, path, dst, port, direct, remote, peer, sni, metadata);
    }

    In withMetadata(String filter, Struct s) {
      return new In(headers, path, dst, port, direct, remote, peer, sni, Map.of(filter, s));
    }

    In network() {
      return new In(Map.of(), null, dst, port, direct, remote, peer, "forecast.example", metadata);
    }

    @Override
    public @Nullable String header(String name) {
      return headers.get(name);
    }

    @Override
    public @Nullable String urlPath() {
      return path;
    }

    @Override
    public byte[] destinationIp() {
      return InetAddress.ofLiteral(dst).getAddress();
    }

    @Override
    public int destinationPort() {
      return port;
    }

    @Override
    public byte[] directRemoteIp() {
      return InetAddress.ofLiteral(direct).getAddress();
    }

    @Override
    public byte[] remoteIp() {
      return InetAddress.ofLiteral(remote).getAddress();
    }

    @Override
    public @Nullable TlsPeer tlsPeer() {
      return peer;
    }

    @Override
    public String requestedServerName() {
      return sni;
    }

    @Override
    public @Nullable Struct dynamicMetadata(String filter) {
      return metadata.get(filter);
    }
  }

  static RbacEngine engine(String text) throws Exception {
    RBAC.Builder b = RBAC.newBuilder();
    TextFormat.merge(text, b);
    return RbacProtos.engine(b.build(), "rules");
  }

  static boolean allowed(RbacEngine e, RbacInput in) {
    return e.allowed(e.firstMatch(in));
  }

  static final String FRONTEND = "spiffe://cluster.local/ns/weather/sa/frontend";

  @Test
  void allowWithoutPoliciesAllowsNothingAndDenyWithoutPoliciesDeniesNothing() throws Exception {
    var in = In.http("GET", "/");
    assertThat(allowed(engine("action: ALLOW"), in)).isFalse();
    assertThat(allowed(engine("action: DENY"), in)).isTrue();
  }

  @Test
  void authenticatedPrincipalMatchesTheUriSanAndNeedsTls() throws Exception {
    var e =
        engine(
            """
            action: ALLOW
            policies { key: "ns[weather]-policy[frontend-only]-rule[0]" value {
              permissions { any: true }
              principals { and_ids { ids { or_ids { ids { authenticated { principal_name {
                exact: "spiffe://cluster.local/ns/weather/sa/frontend" } } } } } } }
            } }
            """);
    var in = In.http("GET", "/forecast");
    assertThat(allowed(e, in)).isFalse(); // plaintext: no principal
    assertThat(allowed(e, in.withPeer(FRONTEND))).isTrue();
    assertThat(allowed(e, in.withPeer("spiffe://cluster.local/ns/weather/sa/advertisement")))
        .isFalse();
    assertThat(e.firstMatch(in.withPeer(FRONTEND)).name())
        .isEqualTo("ns[weather]-policy[frontend-only]-rule[0]");
  }

  @Test
  void namespaceRegexAndSuffixWildcards() throws Exception {
    var e =
        engine(
            """
            action: ALLOW
            policies { key: "p" value {
              permissions { any: true }
              principals { authenticated { principal_name { safe_regex { regex: ".*/ns/weather/.*" } } } }
              principals { authenticated { principal_name { suffix: "/sa/admin" } } }
            } }
            """);
    var in = In.http("GET", "/");
    assertThat(allowed(e, in.withPeer(FRONTEND))).isTrue();
    assertThat(allowed(e, in.withPeer("spiffe://cluster.local/ns/other/sa/admin"))).isTrue();
    assertThat(allowed(e, in.withPeer("spiffe://cluster.local/ns/other/sa/x"))).isFalse();
  }

  @Test
  void headersPathsMethodsAndPortsWithNot() throws Exception {
    var e =
        engine(
            """
            action: ALLOW
            policies { key: "p" value {
              permissions { and_rules {
                rules { or_rules { rules { header { name: ":method" string_match { exact: "GET" } } } } }
                rules { or_rules { rules { url_path { path { prefix: "/api/" } } } } }
                rules { not_rule { url_path { path { exact: "/api/admin" } } } }
                rules { or_rules { rules { destination_port: 8080 } } }
                rules { or_rules { rules { header { name: ":authority" string_match { prefix: "forecast" ignore_case: true } } } } }
              } }
              principals { any: true }
            } }
            """);
    assertThat(allowed(e, In.http("GET", "/api/x?q=1"))).isTrue();
    assertThat(allowed(e, In.http("POST", "/api/x"))).isFalse();
    assertThat(allowed(e, In.http("GET", "/other"))).isFalse();
    assertThat(allowed(e, In.http("GET", "/api/admin?x=y"))).isFalse();
    assertThat(allowed(e, In.http("GET", "/api/x").withHeader(":authority", "FORECAST:8080")))
        .isTrue();
  }

  @Test
  void presentAndInvertedHeaderMatchers() throws Exception {
    var e =
        engine(
            """
            action: DENY
            policies { key: "p" value {
              permissions { header { name: "x-token" present_match: true invert_match: true } }
              principals { any: true }
            } }
            """);
    assertThat(allowed(e, In.http("GET", "/"))).isFalse();
    assertThat(allowed(e, In.http("GET", "/").withHeader("x-token", "t"))).isTrue();
  }

  @Test
  void directRemoteIpIsThePeerAndRemoteIpTheForwardedClient() throws Exception {
    var direct =
        engine(
            """
            action: ALLOW
            policies { key: "p" value { permissions { any: true }
              principals { direct_remote_ip { address_prefix: "10.1.0.0" prefix_len { value: 16 } } } } }
            """);
    var remote =
        engine(
            """
            action: ALLOW
            policies { key: "p" value { permissions { any: true }
              principals { remote_ip { address_prefix: "10.1.0.0" prefix_len { value: 16 } } } } }
            """);
    var dest =
        engine(
            """
            action: ALLOW
            policies { key: "p" value { permissions { destination_ip { address_prefix: "10.0.0.5" prefix_len { value: 32 } } }
              principals { any: true } } }
            """);
    var in = In.http("GET", "/");
    assertThat(allowed(direct, in)).isTrue();
    assertThat(allowed(remote, in)).isFalse();
    assertThat(allowed(dest, in)).isTrue();
  }

  @Test
  void metadataMatchersReadNestedStructsAndLists() throws Exception {
    var e =
        engine(
            """
            action: ALLOW
            policies { key: "p" value {
              permissions { any: true }
              principals { and_ids {
                ids { metadata { filter: "istio_authn" path { key: "request.auth.principal" }
                  value { string_match { exact: "https://issuer/alice" } } } }
                ids { metadata { filter: "istio_authn" path { key: "request.auth.claims" } path { key: "groups" }
                  value { list_match { one_of { string_match { exact: "admins" } } } } } }
              } }
            } }
            """);
    Struct claims =
        Struct.newBuilder()
            .putFields(
                "groups",
                Value.newBuilder()
                    .setListValue(
                        ListValue.newBuilder()
                            .addValues(Value.newBuilder().setStringValue("users"))
                            .addValues(Value.newBuilder().setStringValue("admins")))
                    .build())
            .build();
    Struct md =
        Struct.newBuilder()
            .putFields(
                "request.auth.principal",
                Value.newBuilder().setStringValue("https://issuer/alice").build())
            .putFields("request.auth.claims", Value.newBuilder().setStructValue(claims).build())
            .build();
    var in = In.http("GET", "/");
    assertThat(allowed(e, in)).isFalse(); // no metadata at all
    assertThat(allowed(e, in.withMetadata("istio_authn", md))).isTrue();
    Struct other =
        md.toBuilder()
            .putFields(
                "request.auth.principal",
                Value.newBuilder().setStringValue("https://issuer/bob").build())
            .build();
    assertThat(allowed(e, in.withMetadata("istio_authn", other))).isFalse();
  }

  @Test
  void aNotOfMissingMetadataMatchesAsEnvoysInvert() throws Exception {
    // Istio's notRequestPrincipals: not_id of a metadata matcher on a missing key matches
    var e =
        engine(
            """
            action: DENY
            policies { key: "p" value { permissions { any: true }
              principals { not_id { metadata { filter: "istio_authn" path { key: "request.auth.principal" }
                value { string_match { safe_regex { regex: ".+" } } } } } } } }
            """);
    assertThat(allowed(e, In.http("GET", "/"))).isFalse();
    Struct md =
        Struct.newBuilder()
            .putFields("request.auth.principal", Value.newBuilder().setStringValue("a/b").build())
            .build();
    assertThat(allowed(e, In.http("GET", "/").withMetadata("istio_authn", md))).isTrue();
  }

  @Test
  void onTheNetworkHttpRulesNeverMatchButSniAndPortsDo() throws Exception {
    var e =
        engine(
            """
            action: ALLOW
            policies { key: "a-http" value { permissions { url_path { path { prefix: "/" } } } principals { any: true } } }
            policies { key: "b-sni" value { permissions { requested_server_name { exact: "forecast.example" } } principals { any: true } } }
            """);
    var net = In.http("GET", "/").network();
    assertThat(e.firstMatch(net).name()).isEqualTo("b-sni");
    assertThat(e.firstMatch(In.http("GET", "/")).name()).isEqualTo("a-http");
  }

  @Test
  void theFirstMatchingPolicyIsTheFirstByName() throws Exception {
    var e =
        engine(
            """
            action: DENY
            policies { key: "z" value { permissions { any: true } principals { any: true } } }
            policies { key: "m" value { permissions { any: true } principals { any: true } } }
            """);
    assertThat(e.firstMatch(In.http("GET", "/")).name()).isEqualTo("m");
  }

  @Test
  void logNeverDenies() throws Exception {
    var e =
        engine(
            """
            action: LOG
            policies { key: "p" value { permissions { any: true } principals { any: true } } }
            """);
    assertThat(e.firstMatch(In.http("GET", "/"))).isNotNull();
    assertThat(allowed(e, In.http("GET", "/"))).isTrue();
  }

  @Test
  void badConfigNamesTheField() {
    assertThatThrownBy(
            () ->
                engine(
                    """
                    policies { key: "p" value { permissions { any: true } principals { remote_ip { address_prefix: "nope" } } } }
                    """))
        .hasMessageContaining("rules.policies[p].principals[0].remote_ip")
        .hasMessageContaining("nope");
    assertThatThrownBy(
            () ->
                engine(
                    """
                    policies { key: "p" value { permissions { url_path { path { safe_regex { regex: "([" } } } } principals { any: true } } }
                    """))
        .hasMessageContaining("rules.policies[p].permissions[0].url_path.path.safe_regex.regex");
    assertThatThrownBy(() -> engine("policies { key: \"p\" value { principals { any: true } } }"))
        .hasMessageContaining("rules.policies[p].permissions: at least one is required");
  }
}
