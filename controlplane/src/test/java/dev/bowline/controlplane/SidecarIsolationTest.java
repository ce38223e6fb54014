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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service isolation end to end, through the real control plane and our real proxy: a workload whose
 * Sidecar lists one egress host, on an HTTP_PROXY egress listener declared by that Sidecar (not by
 * node metadata), reaches that host; under REGISTRY_ONLY another mesh host and an unknown one get
 * 502 from the block_all route; switched to ALLOW_ANY the same requests pass through to their
 * original destination.
 */
class SidecarIsolationTest {
  static final String APP_IP = "127.0.0.30";
  static final String PAYMENTS_IP = "127.0.0.31";
  static final String LEDGER_IP = "127.0.0.32";

  @TempDir Path dir;
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

  static String sidecar(int proxyPort, String mode) {
    return """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          egress:
          - port: {number: %d, protocol: HTTP_PROXY, name: egress-proxy}
            captureMode: NONE
            bind: %s
            hosts: ["./payments.shop.example"]
          outboundTrafficPolicy: {mode: %s}
        """
        .formatted(proxyPort, APP_IP, mode);
  }

  @Test
  void restrictiveSidecarReachesOnlyItsHostsUnderRegistryOnlyAndPassesThroughUnderAllowAny()
      throws Exception {
    HttpServer payments = backend("payments", PAYMENTS_IP);
    HttpServer ledger = backend("ledger", LEDGER_IP);
    HttpServer unknown = backend("unknown", LEDGER_IP);
    int proxyPort = LocalMesh.freePort(APP_IP);
    Files.writeString(
        dir.resolve("entries.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: payments, namespace: shop}
        spec:
          hosts: [payments.shop.example]
          location: MESH_EXTERNAL
          resolution: STATIC
          ports: [{number: 8080, name: http, protocol: HTTP}]
          endpoints: [{address: %s, ports: {http: %d}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: ledger, namespace: shop}
        spec:
          hosts: [ledger.shop.example]
          location: MESH_EXTERNAL
          resolution: STATIC
          ports: [{number: 8080, name: http, protocol: HTTP}]
          endpoints: [{address: %s, ports: {http: %d}}]
        """
            .formatted(
                PAYMENTS_IP,
                payments.getAddress().getPort(),
                LEDGER_IP,
                ledger.getAddress().getPort()));
    Path sidecarFile = dir.resolve("sidecar.yaml");
    Files.writeString(sidecarFile, sidecar(proxyPort, "REGISTRY_ONLY"));
    mesh = LocalMesh.start(dir);
    mesh.sidecar(LocalMesh.SOTW, APP_IP, "app-1", List.of("LABELS: {app: app}"), "");

    HttpClient client =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(APP_IP, proxyPort)))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    String ledgerDst = LEDGER_IP + ":" + ledger.getAddress().getPort();
    String unknownDst = LEDGER_IP + ":" + unknown.getAddress().getPort();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(client, "payments.shop.example:8080", null).statusCode() == 200);

    // REGISTRY_ONLY: the listed host answers; a mesh host not listed and an unknown one get 502.
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> ok = get(client, "payments.shop.example:8080", null);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).isEqualTo("payments");
      assertThat(get(client, "ledger.shop.example:8080", ledgerDst).statusCode()).isEqualTo(502);
      assertThat(get(client, "unknown.example:8080", unknownDst).statusCode()).isEqualTo(502);
    }
    assertThat(mesh.controlPlane.xds().syncStatus())
        .singleElement()
        .satisfies(s -> assertThat(s.types().get("cds").nackError()).isNull());

    // ALLOW_ANY: both pass through to where the request said it was going.
    Files.writeString(sidecarFile, sidecar(proxyPort, "ALLOW_ANY"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(client, "ledger.shop.example:8080", ledgerDst).statusCode() == 200);
    for (int i = 0; i < 20; i++) {
      assertThat(get(client, "payments.shop.example:8080", null).body()).isEqualTo("payments");
      HttpResponse<String> l = get(client, "ledger.shop.example:8080", ledgerDst);
      assertThat(l.statusCode()).isEqualTo(200);
      assertThat(l.body()).isEqualTo("ledger");
      HttpResponse<String> u = get(client, "unknown.example:8080", unknownDst);
      assertThat(u.statusCode()).isEqualTo(200);
      assertThat(u.body()).isEqualTo("unknown");
    }
  }

  static HttpResponse<String> get(HttpClient client, String authority, String originalDst)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://" + authority + "/"))
            .timeout(Duration.ofSeconds(5));
    if (originalDst != null) {
      // Not redirected, so the request names its original destination itself (decision 0016).
      r.header("x-envoy-original-dst-host", originalDst);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }
}
