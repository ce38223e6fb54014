package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upstream_bind_config} over real sockets, as Envoy's default local address selector: a
 * cluster's upstream connections (HTTP, {@code tcp_proxy}, active health checks) leave from its
 * {@code source_address} (Istio's inbound passthrough: 127.0.0.6), or from the {@code
 * extra_source_addresses} entry of the peer's IP family; a cluster without one binds as the
 * bootstrap's {@code cluster_manager.upstream_bind_config}. The backend answers with the peer
 * address it saw. Also the cluster's {@code metadata} in access logs ({@code %CLUSTER_METADATA%}).
 */
class UpstreamBindProxyTest {
  static final String IP = "127.0.7.40";
  static final String BACKEND_IP = "127.0.7.41";
  static final String BOOTSTRAP_SOURCE = "127.0.7.42";
  static final String CHECK_SOURCE = "127.0.7.43";
  static final String EXTRA_SOURCE = "127.0.7.44";

  @TempDir static Path dir;
  static HttpServer backend;
  static ExecutorService executor;
  static SocketProxy proxy;
  static int httpPort;
  static int tcpPort;
  static Path log;

  /** The peer addresses the backend saw, per request path. */
  static final Map<String, Set<String>> peers = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          String peer = ex.getRemoteAddress().getAddress().getHostAddress();
          peers
              .computeIfAbsent(ex.getRequestURI().getPath(), k -> ConcurrentHashMap.newKeySet())
              .add(peer);
          byte[] out = ("peer=" + peer).getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();
    int port = backend.getAddress().getPort();
    httpPort = Ports.free(IP);
    do { // a port just freed may be handed out again
      tcpPort = Ports.free(IP);
    } while (tcpPort == httpPort);
    log = dir.resolve("access.log");
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1),
            false,
            "cluster_manager: {upstream_bind_config: {source_address: {address: "
                + BOOTSTRAP_SOURCE
                + ", port_value: 0}}}\n",
            List.of(
                SocketProxy.listener(
                    "h",
                    IP,
                    httpPort,
                    SocketProxy.accessLog(
                        log,
                        "%REQ(:path)% %CLUSTER_METADATA(istio:name)% %CLUSTER_METADATA(istio)%\\n"),
                    "{match: {prefix: /bound}, route: {cluster: bound}}",
                    "{match: {prefix: /family}, route: {cluster: family}}",
                    "{match: {prefix: /checked}, route: {cluster: checked}}",
                    SocketProxy.to("/", "plain")),
                SocketProxy.tcpListener("t", IP, tcpPort, "bound", "")),
            List.of(
                SocketProxy.cluster(
                    "bound",
                    BACKEND_IP,
                    port,
                    """
                    upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}}
                    metadata: {filter_metadata: {istio: {name: bound-svc}}}"""),
                // IPv6 source, IPv4 extra: the IPv4 backend is reached from the extra address
                SocketProxy.cluster(
                    "family",
                    BACKEND_IP,
                    port,
                    "upstream_bind_config: {source_address: {address: '::1', port_value: 0},"
                        + " extra_source_addresses: [{address: {address: "
                        + EXTRA_SOURCE
                        + ", port_value: 0}}]}"),
                SocketProxy.cluster("plain", BACKEND_IP, port, ""),
                SocketProxy.cluster(
                    "checked",
                    BACKEND_IP,
                    port,
                    """
                    upstream_bind_config: {source_address: {address: %s, port_value: 0}}
                    health_checks:
                    - timeout: 5s
                      interval: 1s
                      unhealthy_threshold: 3
                      healthy_threshold: 1
                      http_health_check: {path: /hc}"""
                        .formatted(CHECK_SOURCE))));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.shutdownNow();
  }

  static String get(String path) throws IOException {
    try (Socket s = new Socket(IP, httpPort)) {
      s.setSoTimeout(60_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      return SocketProxy.response(s.getInputStream());
    }
  }

  @Test
  void httpRequestsOfABoundClusterLeaveFromItsSourceAddress() throws Exception {
    assertThat(get("/bound/a")).startsWith("HTTP/1.1 200").endsWith("peer=127.0.0.6");
    assertThat(peers.get("/bound/a")).containsExactly("127.0.0.6");
  }

  @Test
  void tcpProxyConnectionsOfABoundClusterLeaveFromItsSourceAddress() throws Exception {
    try (Socket s = new Socket(IP, tcpPort)) {
      s.setSoTimeout(60_000);
      s.getOutputStream()
          .write("GET /tcp HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(SocketProxy.response(s.getInputStream())).endsWith("peer=127.0.0.6");
    }
    assertThat(peers.get("/tcp")).containsExactly("127.0.0.6");
  }

  @Test
  void theExtraSourceAddressOfThePeersFamilyIsTaken() throws Exception {
    assertThat(get("/family")).endsWith("peer=" + EXTRA_SOURCE);
  }

  @Test
  void aClusterWithoutBindConfigBindsAsTheBootstrapSays() throws Exception {
    assertThat(get("/plain")).endsWith("peer=" + BOOTSTRAP_SOURCE);
  }

  /** Envoy's health check connections are made by the cluster's host: they bind alike. */
  @Test
  void healthCheckConnectionsLeaveFromTheClustersSourceAddress() throws Exception {
    // the first request through the cluster sets it up on the worker, which starts its checker
    assertThat(get("/checked")).endsWith("peer=" + CHECK_SOURCE);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> peers.getOrDefault("/hc", Set.of()).contains(CHECK_SOURCE));
    assertThat(peers.get("/hc")).containsExactly(CHECK_SOURCE);
  }

  @Test
  void accessLogsReadTheClustersMetadata() throws Exception {
    get("/bound/meta");
    get("/plain/meta");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(SocketProxy.logLines(log))
                    .contains("/bound/meta bound-svc {\"name\":\"bound-svc\"}", "/plain/meta - -"));
  }

  @Test
  void aBootstrapBindConfigNamingAHostIsRefusedNamingTheField() {
    String yaml =
        """
        cluster_manager: {upstream_bind_config: {source_address: {address: localhost, port_value: 0}}}
        static_resources: {}
        """;
    var bootstrap = new BootstrapLoader().parse("bad-bind.yaml", yaml);
    assertThatThrownBy(() -> Proxy.start(bootstrap, ProxyOptions.defaults().withWorkers(1)))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining(
            "cluster_manager.upstream_bind_config.source_address.address: 'localhost' is not an IP"
                + " address");
  }
}
