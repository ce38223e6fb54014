package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
  ControlPlane controlPlane;
  ConfigFeed feed;
  Proxy proxy;

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    for (ServerSocket s : backends) {
      s.close();
    }
    if (feed != null) {
      feed.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
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
    int port = SidecarIsolationTest.freePort(APP_IP);
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
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(dir), Clock.systemUTC());
    controlPlane.start();
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("app.yaml", bootstrap()),
            ProxyOptions.defaults()
                .withWorkers(1)
                .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
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

  String bootstrap() throws IOException {
    return """
        node:
          id: sidecar~%s~db-client-1.shop~shop.svc.cluster.local
          metadata: {NAMESPACE: shop, INTERCEPTION_MODE: NONE}
        admin: {address: {socket_address: {address: %s, port_value: %d}}}
        dynamic_resources:
          ads_config:
            api_type: DELTA_GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
          lds_config: {ads: {}, resource_api_version: V3}
          cds_config: {ads: {}, resource_api_version: V3}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        """
        .formatted(APP_IP, APP_IP, SidecarIsolationTest.freePort(APP_IP), controlPlane.xdsPort());
  }
}
