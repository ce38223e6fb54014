package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access logs beside the connection managers, end to end through the real control plane and our
 * real proxies in local mode, as istiod configures them: a Telemetry resource turning on an {@code
 * envoyFileAccessLog} provider (MeshConfig {@code extensionProviders}, a text format of our own)
 * puts it on the {@code tcp_proxy} of a TCP service, so the client's sidecar writes a line for each
 * connection to it, in that format, with its bytes; and on each listener with istiod's {@code NR}
 * response-flag filter, so the server's sidecar, whose STRICT inbound listener has no plaintext
 * chain, logs a plaintext connection it had to close ({@code NR}, {@code filter_chain_not_found}).
 */
class TcpAccessLogTest {
  static final String CLIENT_IP = "127.0.7.220";
  static final String SERVER_IP = "127.0.7.221";
  static final String DB_IP = "127.0.7.222";
  static final String SDS_IP = "127.0.7.229";
  static final String FORMAT =
      "%DOWNSTREAM_LOCAL_ADDRESS% %UPSTREAM_CLUSTER% flags=%RESPONSE_FLAGS%"
          + " details=%RESPONSE_CODE_DETAILS% rx=%BYTES_RECEIVED% tx=%BYTES_SENT%";

  @TempDir Path dir;
  @TempDir Path logs;
  ServerSocket db;
  ServerSocket app;
  LocalMesh mesh;
  TestSds sds;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    if (sds != null) {
      sds.close();
    }
    for (ServerSocket s : new ServerSocket[] {db, app}) {
      if (s != null) {
        s.close();
      }
    }
  }

  /** A TCP server on {@code ip} that reads 4 bytes, answers {@code pong} and closes. */
  static ServerSocket pong(String ip) throws IOException {
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName(ip));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket c = s.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (c) {
                              c.getInputStream().readNBytes(4);
                              c.getOutputStream().write("pong".getBytes(StandardCharsets.UTF_8));
                            } catch (IOException e) {
                              // client gone
                            }
                          });
                } catch (IOException e) {
                  // closed
                }
              }
            });
    return s;
  }

  @Test
  void telemetryLogsTcpConnectionsAndConnectionsNoFilterChainTook() throws Exception {
    db = pong(DB_IP);
    app = pong(SERVER_IP);
    sds = new TestSds(SDS_IP);
    int dbPort = LocalMesh.freePort(CLIENT_IP);
    int vaultPort = LocalMesh.freePort(SERVER_IP);
    Path clientLog = logs.resolve("client.log");
    Path serverLog = logs.resolve("server.log");
    Files.writeString(
        dir.resolve("mesh.yaml"),
        """
        extensionProviders:
        - name: client-log
          envoyFileAccessLog: {path: '%1$s', logFormat: {text: '%3$s'}}
        - name: server-log
          envoyFileAccessLog: {path: '%2$s', logFormat: {text: '%3$s'}}
        """
            .formatted(clientLog, serverLog, FORMAT));
    Files.writeString(
        dir.resolve("shop.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: db, namespace: shop}
        spec:
          hosts: [db.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %1$d, name: tcp, protocol: TCP}]
          endpoints: [{address: %3$s, ports: {tcp: %4$d}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: db, namespace: shop}
        spec:
          host: db.shop.example
          trafficPolicy: {tls: {mode: DISABLE}}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vault, namespace: shop}
        spec:
          hosts: [vault.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %2$d, name: tcp, protocol: TCP}]
          endpoints: [{address: %5$s, ports: {tcp: %2$d}, labels: {app: vault}, serviceAccount: vault}]
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: vault, namespace: shop}
        spec:
          selector: {matchLabels: {app: vault}}
          mtls: {mode: STRICT}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: %1$d, protocol: TCP, name: tcp}
            bind: %6$s
            captureMode: NONE
            hosts: [./db.shop.example]
        ---
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: client, namespace: shop}
        spec:
          selector: {matchLabels: {app: client}}
          accessLogging: [{providers: [{name: client-log}]}]
        ---
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: vault, namespace: shop}
        spec:
          selector: {matchLabels: {app: vault}}
          accessLogging: [{providers: [{name: server-log}]}]
        """
            .formatted(dbPort, vaultPort, DB_IP, db.getLocalPort(), SERVER_IP, CLIENT_IP));
    mesh = LocalMesh.start(dir);
    mesh.sidecar(LocalMesh.DELTA, CLIENT_IP, "client-1", List.of("LABELS: {app: client}"), "");
    mesh.sidecar(
        LocalMesh.DELTA,
        SERVER_IP,
        "vault-1",
        List.of(
            "LABELS: {app: vault}",
            "POD_PORTS: '[{\"name\":\"tcp\",\"containerPort\":%d}]'".formatted(app.getLocalPort())),
        sds.cluster(SDS_IP));

    // the client's sidecar: one line per TCP connection, when it ends, in the provider's format
    InetSocketAddress egress = new InetSocketAddress(CLIENT_IP, dbPort);
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> exchange(egress).equals("pong"));
    String dbLine =
        "%s:%d outbound|%d||db.shop.example flags=- details=- rx=4 tx=4"
            .formatted(CLIENT_IP, dbPort, dbPort);
    await().atMost(Duration.ofSeconds(30)).until(() -> lines(clientLog).contains(dbLine));

    // the server's sidecar: its STRICT listener has a TLS chain only, so a plaintext connection
    // matches none; the listener's own access log takes it (NR), the connection is closed
    InetSocketAddress inbound = new InetSocketAddress(SERVER_IP, vaultPort);
    String nrLine =
        "%s:%d - flags=NR details=filter_chain_not_found rx=0 tx=0".formatted(SERVER_IP, vaultPort);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              poke(inbound);
              return lines(serverLog).contains(nrLine);
            });
    // the NR filter keeps everything else off the listener's log: no line for the client's
    // connections, which the TCP proxy logged
    assertThat(lines(clientLog)).allMatch(l -> l.contains("flags=-"));
  }

  /** Sends {@code ping}, returns what came back before the connection ended. */
  static String exchange(InetSocketAddress to) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 2000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A plaintext connection to {@code to} that says {@code ping}; whatever happens then. */
  static void poke(InetSocketAddress to) {
    try {
      String answer = exchange(to);
      assertThat(answer).isEmpty(); // closed without an answer
    } catch (IOException e) {
      // not listening yet, or reset as it closed the connection unread
    }
  }

  static List<String> lines(Path log) throws IOException {
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }
}
