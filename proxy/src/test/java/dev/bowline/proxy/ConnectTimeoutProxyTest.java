package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.net.http.HttpResponse;
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
  static ScriptedBackend stall;
  static SocketProxy proxy;
  static int httpPort;
  static int tcpPort;

  /** A cluster of the stalling peer over TLS with a 0.5 s connect timeout, and {@code options}. */
  static String tlsCluster(String name, String options) {
    return SocketProxy.cluster(
        name,
        stall.ip(),
        stall.port(),
        """
        connect_timeout: 0.5s
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        """
            + options);
  }

  @BeforeAll
  static void start() throws Exception {
    stall = ScriptedBackend.stall("127.0.81.2");
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "http",
                    IP,
                    httpPort,
                    SocketProxy.accessLog(dir.resolve("access.log"), FORMAT),
                    SocketProxy.to("/h2", "tls2"),
                    SocketProxy.to("/", "tls1")),
                SocketProxy.tcpListener("tcp", IP, tcpPort, "tlstcp", "")),
            List.of(
                tlsCluster("tls1", ""),
                tlsCluster(
                    "tls2",
                    SocketProxy.httpProtocolOptions(
                        "explicit_http_config: {http2_protocol_options: {}}")),
                tlsCluster("tlstcp", "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    stall.close();
  }

  static void awaitLogLine(String line) {
    SocketProxy.awaitLogLine(dir.resolve("access.log"), line);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return proxy.get(httpPort, path);
  }

  @Test
  void aHandshakeThatHangsPastConnectTimeoutFailsTheHttp1Request() throws Exception {
    HttpResponse<String> r = get("/h1");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(BODY);
    awaitLogLine("/h1 503 UF upstream_reset_before_response_started{connection_timeout}");
    assertThat(proxy.stat("cluster.tls1.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(proxy.stat("cluster.tls1.upstream_cx_connect_fail")).isEqualTo(1);
    // the proxy gave the connection up: the peer sees it closed
    await().atMost(Duration.ofSeconds(20)).until(() -> stall.closedByPeer.get() >= 1);
  }

  @Test
  void aHandshakeThatHangsPastConnectTimeoutFailsTheHttp2Request() throws Exception {
    HttpResponse<String> r = get("/h2/x");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo(BODY);
    awaitLogLine("/h2/x 503 UF upstream_reset_before_response_started{connection_timeout}");
    assertThat(proxy.stat("cluster.tls2.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(proxy.stat("cluster.tls2.upstream_cx_connect_fail")).isEqualTo(1);
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
    assertThat(proxy.stat("cluster.tlstcp.upstream_cx_connect_timeout")).isEqualTo(1);
    assertThat(proxy.stat("cluster.tlstcp.upstream_cx_connect_fail")).isEqualTo(1);
  }
}
