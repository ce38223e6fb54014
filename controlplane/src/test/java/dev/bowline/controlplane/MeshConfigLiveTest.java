package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MeshConfig live, through the real control plane and our real proxy: {@code mesh.yaml} in the
 * watched config directory says REGISTRY_ONLY, so a request for a host outside the registry gets
 * 502 from {@code block_all} while a registered one passes; rewriting it to ALLOW_ANY lets the
 * unknown host through with no restart; an invalid MeshConfig is refused (named field in {@code
 * /debug/configz}) and the last good one keeps serving; a Sidecar's own outboundTrafficPolicy
 * overrides the mesh's. The same through {@code --mesh-config FILE} in the {@code istio} ConfigMap
 * form.
 */
class MeshConfigLiveTest {
  static final String APP_IP = "127.0.0.70";
  static final String PAYMENTS_IP = "127.0.0.71";
  static final String UNKNOWN_IP = "127.0.0.72";

  @TempDir Path dir;
  @TempDir Path meshDir;
  final List<HttpServer> backends = new ArrayList<>();
  LocalMesh mesh;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    backends.forEach(b -> b.stop(0));
  }

  HttpServer backend(String name, String ip) throws IOException {
    HttpServer s = LocalMesh.app(name, ip);
    backends.add(s);
    return s;
  }

  /** A Sidecar declaring the HTTP proxy egress listener; {@code policy} null leaves it unset. */
  static String sidecar(int proxyPort, @Nullable String policy) {
    return """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          egress:
          - port: {number: %d, protocol: HTTP_PROXY, name: egress-proxy}
            captureMode: NONE
            bind: %s
            hosts: ["*/*"]
        %s"""
        .formatted(
            proxyPort,
            APP_IP,
            policy == null ? "" : "  outboundTrafficPolicy: {mode: " + policy + "}\n");
  }

  String entry(HttpServer payments) {
    return """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: payments, namespace: shop}
        spec:
          hosts: [payments.shop.example]
          location: MESH_EXTERNAL
          resolution: STATIC
          ports: [{number: 8080, name: http, protocol: HTTP}]
          endpoints: [{address: %s, ports: {http: %d}}]
        """
        .formatted(PAYMENTS_IP, payments.getAddress().getPort());
  }

  void startMesh(@Nullable Path meshConfigFile, int proxyPort) throws Exception {
    mesh = LocalMesh.start(dir, meshConfigFile);
    assertThat(mesh.feed.initialMeshConfigErrors()).isEmpty();
    mesh.sidecar(LocalMesh.SOTW, APP_IP, "app-1", List.of("LABELS: {app: app}"), "");
  }

  @Test
  void meshYamlInTheConfigDirectoryIsLiveAndAnInvalidOneKeepsTheLastGood() throws Exception {
    HttpServer payments = backend("payments", PAYMENTS_IP);
    HttpServer unknown = backend("unknown", UNKNOWN_IP);
    int proxyPort = LocalMesh.freePort(APP_IP);
    Files.writeString(dir.resolve("entries.yaml"), entry(payments));
    Path sidecarFile = dir.resolve("sidecar.yaml");
    Files.writeString(sidecarFile, sidecar(proxyPort, null));
    Path meshYaml = dir.resolve("mesh.yaml");
    Files.writeString(meshYaml, "outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n");
    startMesh(null, proxyPort);
    assertThat(mesh.controlPlane.meshConfig().outboundTrafficPolicy().mode().name())
        .isEqualTo("REGISTRY_ONLY");

    HttpClient client = client(proxyPort);
    String unknownDst = UNKNOWN_IP + ":" + unknown.getAddress().getPort();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(client, "payments.shop.example:8080", null).statusCode() == 200);

    // REGISTRY_ONLY from MeshConfig: the registered host answers, an unknown one gets 502.
    for (int i = 0; i < 10; i++) {
      assertThat(get(client, "payments.shop.example:8080", null).body()).isEqualTo("payments");
      assertThat(get(client, "unknown.example:8080", unknownDst).statusCode()).isEqualTo(502);
    }

    // Live: ALLOW_ANY passes the unknown host through to where the request said it was going.
    long t0 = System.nanoTime();
    Files.writeString(meshYaml, "outboundTrafficPolicy: {mode: ALLOW_ANY}\n");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(client, "unknown.example:8080", unknownDst).statusCode() == 200);
    long reloadMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("meshconfig reload to traffic: " + reloadMs + " ms");
    assertThat(get(client, "unknown.example:8080", unknownDst).body()).isEqualTo("unknown");

    // Invalid: refused with the field named; the last good MeshConfig (ALLOW_ANY) keeps serving.
    Files.writeString(meshYaml, "outboundTrafficPolicy: {mode: BLOCK_EVERYTHING}\n");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> mesh.feed.meshConfig().rejection().isPresent());
    assertThat(mesh.feed.meshConfig().rejection().orElseThrow().errors())
        .anySatisfy(m -> assertThat(m.path()).contains("outboundTrafficPolicy.mode"));
    @SuppressWarnings("unchecked")
    Map<String, Object> meshz = (Map<String, Object>) configz().get("meshConfig");
    assertThat(meshz.get("outboundTrafficPolicy")).isEqualTo("ALLOW_ANY");
    assertThat(meshz.get("rejection").toString()).contains("outboundTrafficPolicy.mode");
    for (int i = 0; i < 10; i++) {
      assertThat(get(client, "unknown.example:8080", unknownDst).statusCode()).isEqualTo(200);
      assertThat(get(client, "payments.shop.example:8080", null).statusCode()).isEqualTo(200);
    }

    // The Sidecar's own policy overrides the mesh's.
    Files.writeString(sidecarFile, sidecar(proxyPort, "REGISTRY_ONLY"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(client, "unknown.example:8080", unknownDst).statusCode() == 502);
    assertThat(get(client, "payments.shop.example:8080", null).statusCode()).isEqualTo(200);
    assertThat(mesh.controlPlane.xds().syncStatus())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.types().get("cds").nackError()).isNull();
              assertThat(s.types().get("lds").nackError()).isNull();
            });
  }

  @Test
  void meshConfigFileInTheIstioConfigMapFormIsWatchedAndWinsOverMeshYaml() throws Exception {
    HttpServer payments = backend("payments", PAYMENTS_IP);
    HttpServer unknown = backend("unknown", UNKNOWN_IP);
    int proxyPort = LocalMesh.freePort(APP_IP);
    Files.writeString(dir.resolve("entries.yaml"), entry(payments));
    Files.writeString(dir.resolve("sidecar.yaml"), sidecar(proxyPort, null));
    // Ignored: --mesh-config is given.
    Files.writeString(dir.resolve("mesh.yaml"), "outboundTrafficPolicy: {mode: ALLOW_ANY}\n");
    Path file = meshDir.resolve("istio-configmap.yaml");
    Files.writeString(file, configMap("REGISTRY_ONLY"));
    startMesh(file, proxyPort);

    HttpClient client = client(proxyPort);
    String unknownDst = UNKNOWN_IP + ":" + unknown.getAddress().getPort();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(client, "payments.shop.example:8080", null).statusCode() == 200);
    assertThat(get(client, "unknown.example:8080", unknownDst).statusCode()).isEqualTo(502);
    assertThat(mesh.controlPlane.meshConfig().trustDomain()).isEqualTo("corp.example");

    Files.writeString(file, configMap("ALLOW_ANY"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(client, "unknown.example:8080", unknownDst).statusCode() == 200);
  }

  static String configMap(String mode) {
    return """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |-
            trustDomain: corp.example
            outboundTrafficPolicy:
              mode: %s
        """
        .formatted(mode);
  }

  Map<String, Object> configz() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + mesh.controlPlane.monitoringPort()
                                + "/debug/configz"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    @SuppressWarnings("unchecked")
    Map<String, Object> m =
        new com.fasterxml.jackson.databind.ObjectMapper().readValue(r.body(), Map.class);
    return m;
  }

  static HttpClient client(int proxyPort) {
    return HttpClient.newBuilder()
        .proxy(ProxySelector.of(new InetSocketAddress(APP_IP, proxyPort)))
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }

  static HttpResponse<String> get(HttpClient client, String authority, String originalDst)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://" + authority + "/"))
            .timeout(Duration.ofSeconds(5));
    if (originalDst != null) {
      r.header("x-envoy-original-dst-host", originalDst);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }
}
