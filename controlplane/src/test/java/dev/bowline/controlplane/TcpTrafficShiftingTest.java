package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP traffic shifting end to end (issue #8), through the real control plane and our real proxy: a
 * VirtualService {@code tcp} route weighting two DestinationRule subsets 80/20 becomes a {@code
 * tcp_proxy} with weighted clusters on the Sidecar's bound TCP egress listener, and connections
 * split accordingly; an edit to 50/50 shifts them.
 */
class TcpTrafficShiftingTest {
  static final String APP_IP = "127.0.0.50";
  static final int CONNECTIONS = 500;

  @TempDir Path dir;
  final List<ServerSocket> backends = new ArrayList<>();
  LocalMesh mesh;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    for (ServerSocket s : backends) {
      s.close();
    }
  }

  /** A TCP server that writes its name to every connection and closes it. */
  ServerSocket backend(String name, String ip) throws IOException {
    ServerSocket s = new ServerSocket(0, 200, InetAddress.getByName(ip));
    backends.add(s);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!s.isClosed()) {
                try (Socket c = s.accept()) {
                  c.getOutputStream().write(name.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                  // closed
                }
              }
            });
    return s;
  }

  static String virtualService(int port, int v1, int v2) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: db, namespace: shop}
        spec:
          hosts: [db.shop.example]
          tcp:
          - match: [{port: %d}]
            route:
            - {destination: {host: db.shop.example, subset: v1}, weight: %d}
            - {destination: {host: db.shop.example, subset: v2}, weight: %d}
        """
        .formatted(port, v1, v2);
  }

  @Test
  void weightedTcpRoutesSplitConnectionsAndShiftOnEdit() throws Exception {
    ServerSocket v1 = backend("db-v1", "127.0.0.51");
    ServerSocket v2 = backend("db-v2", "127.0.0.52");
    int port = LocalMesh.freePort(APP_IP);
    Files.writeString(
        dir.resolve("db.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: db, namespace: shop}
        spec:
          hosts: [db.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %1$d, name: tcp, protocol: TCP}]
          endpoints:
          - {address: 127.0.0.51, ports: {tcp: %2$d}, labels: {version: v1}}
          - {address: 127.0.0.52, ports: {tcp: %3$d}, labels: {version: v2}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: db, namespace: shop}
        spec:
          host: db.shop.example
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          egress:
          - port: {number: %1$d, protocol: TCP, name: tcp}
            bind: %4$s
            captureMode: NONE
            hosts: [./db.shop.example]
        """
            .formatted(port, v1.getLocalPort(), v2.getLocalPort(), APP_IP));
    Path vs = dir.resolve("vs.yaml");
    Files.writeString(vs, virtualService(port, 80, 20));
    mesh = LocalMesh.start(dir);
    mesh.sidecar(LocalMesh.DELTA, APP_IP, "db-client-1", List.of(), "");
    InetSocketAddress listener = new InetSocketAddress(APP_IP, port);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> !read(listener).isEmpty());

    Map<String, Integer> first = split(listener, CONNECTIONS);
    System.out.println("tcp_split_80_20=" + first);
    assertThat(first).containsOnlyKeys("db-v1", "db-v2");
    assertThat(first.get("db-v1") / (double) CONNECTIONS).isBetween(0.72, 0.88);

    Files.writeString(vs, virtualService(port, 50, 50));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> split(listener, 100).getOrDefault("db-v2", 0) > 35);
    Map<String, Integer> second = split(listener, CONNECTIONS);
    System.out.println("tcp_split_50_50=" + second);
    assertThat(second.get("db-v1") / (double) CONNECTIONS).isBetween(0.42, 0.58);
  }

  static Map<String, Integer> split(InetSocketAddress listener, int n) throws IOException {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(read(listener), 1, Integer::sum);
    }
    return counts;
  }

  static String read(InetSocketAddress listener) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(listener, 2000);
      s.setSoTimeout(5000);
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
