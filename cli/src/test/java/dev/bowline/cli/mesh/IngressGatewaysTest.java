package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway entries of mesh.yaml: preflight port checks, bootstrap, registry, URLs. */
class IngressGatewaysTest {
  static final String MESH =
      """
      workloads:
      - {name: web, labels: {app: web}, ports: [{name: http, number: 8000}], command: [x]}
      gateways:
      - {address: 127.0.0.197, ports: [{name: http2, number: 80, targetPort: 18080}]}
      """;

  @TempDir Path dir;

  @Test
  void aTakenGatewayPortNamesTheGatewayAndPort() throws Exception {
    MeshSpec spec = MeshFile.parse(MESH, dir.resolve("mesh.yaml"));
    assertThat(IngressGateways.portsInUse(spec)).isEmpty();
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.197"), 18080));
      assertThat(IngressGateways.portsInUse(spec))
          .containsExactly(
              "gateway istio-system/istio-ingressgateway: port 127.0.0.197:18080 is already in use");
    }
  }

  @Test
  void bootstrapRegistryAndUrlsDescribeARouter() throws Exception {
    MeshSpec spec = MeshFile.parse(MESH, dir.resolve("mesh.yaml"));
    MeshSpec.Gateway g = spec.gateways().getFirst();
    String bootstrap = SidecarBootstrap.gateway(g, "127.0.0.1", 15010);
    assertThat(bootstrap)
        .contains(
            "router~127.0.0.197~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local")
        .contains("INTERCEPTION_MODE: NONE")
        .contains("istio: ingressgateway");
    String registry = RegistryYaml.of(MeshPlan.assign(spec, "127.0.0.2", true));
    assertThat(registry)
        .contains("name: istio-ingressgateway")
        .contains("targetPort: 18080")
        .contains("address: 127.0.0.197");
    // Unmeshed, no gateway runs, so none is registered.
    assertThat(RegistryYaml.of(MeshPlan.assign(spec, "127.0.0.2", false)))
        .doesNotContain("istio-ingressgateway");
    assertThat(IngressGateways.urls(g)).containsExactly(URI.create("http://127.0.0.197:18080/"));
  }
}
