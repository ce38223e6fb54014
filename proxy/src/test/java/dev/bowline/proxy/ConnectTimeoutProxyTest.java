package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's {@code connect_timeout} covers the upstream TLS handshake, as Envoy's connect timer
 * does (it runs until the connection's Connected event, which a TLS transport socket raises once
 * its handshake is done): a peer that accepts TCP and never answers the handshake fails the
 * connection at {@code connect_timeout}, counted in {@code upstream_cx_connect_timeout} and {@code
 * upstream_cx_connect_fail}; the request gets 503 UF with reset reason {@code connection timeout}
 * and details {@code upstream_reset_before_response_started{connection_timeout}}, through the
 * HTTP/1.1 pool, the HTTP/2 pool and {@code tcp_proxy} alike. Before, the handshake had Netty's own
 * 10 s and then counted as a plain connection failure.
 */
class ConnectTimeoutProxyTest {
  static final String IP = "127.0.81.1";
  static final String FORMAT =
      "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";
  static final String BODY =
      "upstream connect error or disconnect/reset before headers. reset reason: connection"
          + " timeout";

  @TempDir static Path dir;
  static StallServer stall;
  static Proxy proxy;
  static int httpPort;
  static int tcpPort;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static String tlsCluster(String name, String protocol) {
    return """
          - name: %1$s
            connect_timeout: 0.5s
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        %2$s
            load_assignment:
              cluster_name: %1$s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.81.2, port_value: %3$d}}}}]}]
        """
        .formatted(name, protocol.indent(4).stripTrailing(), stall.port());
  }

  @BeforeAll
  static void start() throws Exception {
    stall = new StallServer("127.0.81.2");
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: http
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %4$s
                      log_format: {text_format_source: {inline_string: "%5$s"}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /h2}, route: {cluster: tls2}}
                      - {match: {prefix: /}, route: {cluster: tls1}}
          - name: tcp
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: tlstcp
          clusters:
        %6$s
        %7$s
        %8$s
        """
            .formatted(
                IP,
                httpPort,
                tcpPort,
                dir.resolve("access.log"),
                FORMAT,
                tlsCluster("tls1", ""),
                tlsCluster(
                    "tls2",
                    """
                    typed_extension_protocol_options:
                      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                        explicit_http_config: {http2_protocol_options: {}}"""),
                tlsCluster("tlstcp", ""));
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("connect-timeout.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    stall.close();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static List<String> log() throws Exception {
    Path log = dir.resolve("access.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path))
            .timeout(Duration.ofSeconds(60))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aHandshakeThatHangsPastConnectTimeoutFailsTheHttp1Request() throws Exception {
    HttpResponse<String> r = get("/h1");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(BODY);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                log()
                    .contains(
                        "/h1 503 UF upstream_reset_before_response_started{connection_timeout}"));
    assertThat(stat("cluster.tls1.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(stat("cluster.tls1.upstream_cx_connect_fail")).isEqualTo(1);
    // the proxy gave the connection up: the peer sees it closed
    await().atMost(Duration.ofSeconds(20)).until(() -> stall.closedByPeer.get() >= 1);
  }

  @Test
  void aHandshakeThatHangsPastConnectTimeoutFailsTheHttp2Request() throws Exception {
    HttpResponse<String> r = get("/h2/x");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(BODY);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                log()
                    .contains(
                        "/h2/x 503 UF upstream_reset_before_response_started{connection_timeout}"));
    assertThat(stat("cluster.tls2.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(stat("cluster.tls2.upstream_cx_connect_fail")).isEqualTo(1);
  }

  @Test
  void aHandshakeThatHangsPastConnectTimeoutClosesTheTcpProxyConnection() throws Exception {
    try (Socket s = new Socket(IP, tcpPort)) {
      s.setSoTimeout(30_000);
      long start = System.nanoTime();
      assertThat(s.getInputStream().read()).isEqualTo(-1); // closed: the upstream never came up
      // well before Netty's own 10 s handshake timeout, which bounded it before
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    }
    assertThat(stat("cluster.tlstcp.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(stat("cluster.tlstcp.upstream_cx_connect_fail")).isEqualTo(1);
  }
}
