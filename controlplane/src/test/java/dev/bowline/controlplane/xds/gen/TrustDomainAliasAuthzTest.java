package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * MeshConfig {@code trustDomainAliases} in AuthorizationPolicy principals, as istiod's {@code
 * ReplaceTrustDomainAliases}: a principal in the trust domain, an alias or {@code cluster.local}
 * matches the same identity in all of them; foreign and wildcard trust domains stay as written.
 */
class TrustDomainAliasAuthzTest {
  private static final String POLICY =
      """
      apiVersion: security.istio.io/v1beta1
      kind: AuthorizationPolicy
      metadata: {name: only-frontend, namespace: weather}
      spec:
        selector: {matchLabels: {app: forecast}}
        rules:
        - from:
          - source:
              principals: ["cluster.local/ns/weather/sa/frontend", "other.domain/ns/x/sa/y", "*/ns/z/sa/w"]
              notPrincipals: ["alias.domain/ns/weather/sa/banned"]
          when:
          - {key: source.principal, values: ["corp.example/ns/weather/sa/frontend"]}
      """;

  private static PushContext push(MeshConfig mesh) throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(RegistryFile.parse(AuthzGenTest.REGISTRY, "registry.yaml"));
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    Decoded d = new ResourceCodec().decode("authz.yaml", POLICY);
    assertThat(d.rejected()).isEmpty();
    d.resources().forEach(r -> m.put(r.key(), r));
    return new PushContext(
        1,
        registry.snapshot(),
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system"),
        mesh);
  }

  /** The exact principal names of the one ALLOW policy, in order, as groups by OR set. */
  private static List<String> principals(PushContext push) throws Exception {
    var rbac = AuthzGenTest.httpRbac(push);
    assertThat(rbac).hasSize(1);
    String text = rbac.getFirst().getRules().toString();
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("exact: \"spiffe://([^\"]+)\"").matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void principalsAreExpandedOverTheTrustDomainAndItsAliases() throws Exception {
    MeshConfig mesh =
        MeshConfigGenTest.mesh(
            "trustDomain: corp.example\ntrustDomainAliases: [alias.domain, cluster.local]");
    assertThat(principals(push(mesh)))
        .containsExactly(
            "corp.example/ns/weather/sa/frontend",
            "alias.domain/ns/weather/sa/frontend",
            "cluster.local/ns/weather/sa/frontend",
            "other.domain/ns/x/sa/y",
            "corp.example/ns/weather/sa/banned",
            "alias.domain/ns/weather/sa/banned",
            "cluster.local/ns/weather/sa/banned",
            "corp.example/ns/weather/sa/frontend",
            "alias.domain/ns/weather/sa/frontend",
            "cluster.local/ns/weather/sa/frontend");
    // "*/ns/z/sa/w" does not name a trust domain: any trust domain, untouched
    assertThat(AuthzGenTest.httpRbac(push(mesh)).getFirst().getRules().toString())
        .containsOnlyOnce("/ns/z/sa/w");
  }

  @Test
  void withoutAliasesClusterLocalMeansTheMeshTrustDomainOnly() throws Exception {
    assertThat(principals(push(MeshConfigGenTest.mesh("trustDomain: corp.example"))))
        .containsExactly(
            "corp.example/ns/weather/sa/frontend",
            "other.domain/ns/x/sa/y",
            "alias.domain/ns/weather/sa/banned",
            "corp.example/ns/weather/sa/frontend");
    assertThat(principals(push(MeshConfig.defaults())))
        .containsExactly(
            "cluster.local/ns/weather/sa/frontend",
            "other.domain/ns/x/sa/y",
            "alias.domain/ns/weather/sa/banned",
            "corp.example/ns/weather/sa/frontend");
  }
}
