package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.ca.LocalTokenIssuer;
import dev.bowline.cli.PolicyMesh;
import dev.bowline.cli.TestNet;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.proxy.Proxy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MeshConfig {@code trustDomain} and {@code trustDomainAliases} on the wire: the CA issues SPIFFE
 * certificates in {@code corp.example}, two of our proxies talk STRICT mutual TLS through our
 * control plane; switching the mesh's trust domain to {@code new.example} (live, by rewriting
 * mesh.yaml) makes both sides refuse the old identities (the client's SAN check, the server's
 * SPIFFE prefix), and adding {@code corp.example} as an alias lets the same certificates through
 * again: Istio's trust-domain migration.
 */
class TrustDomainIT {
  static final String CP = TestNet.ip("127.0.0.85");
  static final String CLIENT = TestNet.ip("127.0.0.86");
  static final String SERVER = TestNet.ip("127.0.0.87");
  static final String NS = "weather";
  static final int PORT = 8080;
  static final int APP_PORT = 18080;

  @TempDir Path dir;
  final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  @Test
  void aTrustDomainChangeRefusesOldIdentitiesUntilTheyAreAliased() throws Exception {
    Path config = Files.createDirectories(dir.resolve("config"));
    Path mesh = config.resolve("mesh.yaml");
    Files.writeString(mesh, "trustDomain: corp.example\n");
    Files.writeString(
        config.resolve("strict.yaml"),
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: STRICT}}
        """);
    LocalTokenIssuer tokens = new LocalTokenIssuer(new SecureRandom());
    MeshSecurity security =
        MeshSecurity.start(dir.resolve("ca"), CP, 0, tokens, new SecureRandom(), "corp.example");
    open.add(security);
    Path root = dir.resolve("ca").resolve("root-cert.pem");
    Path clientSds =
        security.startAgent(
            "client", NS, "client", Files.createDirectories(dir.resolve("c")), CP, root, tokens);
    Path serverSds =
        security.startAgent(
            "forecast",
            NS,
            "forecast",
            Files.createDirectories(dir.resolve("s")),
            CP,
            root,
            tokens);

    HttpServer app = HttpServer.create(new InetSocketAddress(SERVER, APP_PORT), 0);
    app.createContext(
        "/",
        ex -> {
          byte[] body = "forecast".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    app.start();
    open.add(() -> app.stop(0));

    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.putService(
        new LocalService(
            NS,
            "forecast",
            List.of(new ServicePort("http", PORT, Protocol.HTTP, APP_PORT)),
            Map.of(),
            Map.of()));
    registry.putWorkload(
        new Workload(
            NS,
            "forecast-0",
            Map.of("app", "forecast", "security.istio.io/tlsMode", "istio"),
            SERVER,
            Map.of("http", PORT),
            "forecast",
            new Locality("local", "zone-a", ""),
            "",
            HealthStatus.HEALTHY));
    ControlPlane cp =
        new ControlPlane(
            new ControlPlaneOptions(
                CP, 0, 0, Duration.ofMillis(20), Duration.ofSeconds(1), 100, "cluster.local"),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    open.add(cp);
    ConfigFeed feed = ConfigFeed.start(cp, List.of(config), Clock.systemUTC());
    open.add(feed);
    cp.start();
    assertThat(cp.meshConfig().trustDomain()).isEqualTo("corp.example");
    open.add(sidecar(cp, "client", CLIENT, Map.of("app", "client"), List.of(), clientSds));
    open.add(
        sidecar(cp, "forecast-0", SERVER, Map.of("app", "forecast"), List.of("http"), serverSds));

    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.of(new InetSocketAddress(CLIENT, 15001)))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    // STRICT: only mutual TLS reaches forecast; corp.example certificates match corp.example.
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> status(http) == 200);
    for (int i = 0; i < 5; i++) {
      assertThat(status(http)).isEqualTo(200);
    }

    // A new trust domain: the certificates still say corp.example, so both sides refuse them.
    Files.writeString(mesh, "trustDomain: new.example\n");
    await().atMost(Duration.ofSeconds(20)).until(() -> status(http) == 503);
    for (int i = 0; i < 5; i++) {
      assertThat(status(http)).isEqualTo(503);
    }

    // corp.example as an alias of new.example: the same certificates are accepted again.
    Files.writeString(mesh, "trustDomain: new.example\ntrustDomainAliases: [corp.example]\n");
    await().atMost(Duration.ofSeconds(20)).until(() -> status(http) == 200);
    for (int i = 0; i < 5; i++) {
      assertThat(status(http)).isEqualTo(200);
    }
  }

  static int status(HttpClient http) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://forecast." + NS + ".svc.cluster.local:" + PORT + "/"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 200) {
      assertThat(r.body()).isEqualTo("forecast");
    }
    return r.statusCode();
  }

  static Proxy sidecar(
      ControlPlane cp,
      String name,
      String ip,
      Map<String, String> labels,
      List<String> ports,
      Path sds) {
    return PolicyMesh.startSidecar(
        "sidecar",
        NS,
        name,
        ip,
        labels,
        ports,
        APP_PORT,
        Map.of(),
        List.of(
            PolicyMesh.cluster("xds-grpc", PolicyMesh.socket(CP, cp.xdsPort())),
            PolicyMesh.cluster("sds-grpc", Map.of("pipe", Map.of("path", sds.toString())))));
  }

  static int freePort(String ip) throws IOException {
    return dev.bowline.cli.TestNet.freePort(ip);
  }
}
