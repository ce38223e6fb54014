package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests waiting for an upstream connection, as Envoy's connection pools count and bound them: an
 * HTTP/1.1 request that waits for a new connection is pending, {@code max_pending_requests} bounds
 * them (one more gets 503 UO with {@code x-envoy-overloaded} and {@code
 * upstream_rq_pending_overflow}), {@code upstream_rq_pending_active} shows how many wait, and a
 * request whose client goes away while it waits leaves the queue at once, counted in {@code
 * upstream_rq_cancelled}, on HTTP/1.1 and HTTP/2. The HTTP/1.1 connections never come up: their
 * peer accepts TCP and never answers the TLS handshake (within the cluster's connect_timeout).
 */
class PendingRequestsProxyTest {
  static final String IP = "127.0.73.1";
  static final String FORMAT = "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n";

  @TempDir static Path dir;
  static ServerSocket stall; // accepts, reads, never answers
  static final List<Socket> stalled = new CopyOnWriteArrayList<>();
  static H2Backend h2; // SETTINGS_MAX_CONCURRENT_STREAMS 1, holds
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    stall = new ServerSocket(0, 50, InetAddress.getByName("127.0.73.2"));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!stall.isClosed()) {
                try {
                  Socket s = stall.accept();
                  stalled.add(s);
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try {
                              s.getInputStream()
                                  .transferTo(java.io.OutputStream.nullOutputStream());
                            } catch (IOException e) {
                              // closed
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    h2 = new H2Backend("h2", "127.0.73.3", 1, 0);
    h2.hold = true;
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "pending",
                SocketProxy.accessLog(dir.resolve("pending.log"), FORMAT),
                SocketProxy.to("/stall", "stall"),
                SocketProxy.to("/h2", "h2"))
            .cluster(
                "stall",
                "127.0.73.2",
                stall.getLocalPort(),
                """
                connect_timeout: 120s # its handshakes hang for the whole test
                circuit_breakers: {thresholds: [{max_pending_requests: 2}]}
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext""")
            .clusterYaml(
                """
                  - name: h2
                    circuit_breakers: {thresholds: [{max_connections: 1}]}
                %s
                    load_assignment:
                      cluster_name: h2
                      endpoints: [{lb_endpoints: [%s]}]
                """
                    .formatted(
                        SocketProxy.httpProtocolOptions(
                                "explicit_http_config: {http2_protocol_options: {}}")
                            .indent(4)
                            .stripTrailing(),
                        h2.endpoint()))
            .start();
    proxy = socket.proxy;
    port = socket.port("pending");
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    h2.close();
    stall.close();
    for (Socket s : stalled) {
      s.close();
    }
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  /** A gauge as the admin page's {@code /stats} text shows it; -1 when it is not there. */
  static long gauge(String name) {
    for (String line : proxy.stats().text().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2));
      }
    }
    return -1;
  }

  static Socket send(String path) throws IOException {
    return send(path, "");
  }

  static Socket send(String path, String headers) throws IOException {
    Socket s = new Socket(IP, port);
    s.setSoTimeout(10_000);
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  static List<String> lines(int n) {
    Path log = dir.resolve("pending.log");
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> Files.exists(log) ? Files.readAllLines(log) : List.<String>of(),
            l -> l.size() >= n);
  }

  @Test
  void http1RequestsWaitingForNewConnectionsAreBoundedAndCancelled() throws Exception {
    int logged = lines(0).size();
    try (Socket first = send("/stall/1");
        Socket second = send("/stall/2")) {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> gauge("cluster.stall.upstream_rq_pending_active") == 2);
      assertThat(stat("cluster.stall.upstream_rq_pending_total")).isEqualTo(2);
      try (Socket third = send("/stall/3", "Connection: close\r\n")) {
        String response =
            new String(third.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(response)
            .startsWith("HTTP/1.1 503 Service Unavailable\r\n")
            .containsIgnoringCase("\r\nx-envoy-overloaded: true\r\n");
      }
      assertThat(lines(logged + 1)).contains("/stall/3 503 UO");
      assertThat(stat("cluster.stall.upstream_rq_pending_overflow")).isEqualTo(1);
      assertThat(stat("cluster.stall.upstream_rq_pending_total")).isEqualTo(2);

      // a client gone while its request waits: the request leaves the pool at once
      first.close();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> stat("cluster.stall.upstream_rq_cancelled") == 1);
      assertThat(gauge("cluster.stall.upstream_rq_pending_active")).isEqualTo(1);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> stat("cluster.stall.upstream_rq_cancelled") == 2);
    assertThat(gauge("cluster.stall.upstream_rq_pending_active")).isZero();
    assertThat(proxy.stats().text()).contains("cluster.stall.upstream_rq_pending_active: 0\n");
    assertThat(proxy.stats().prometheus())
        .contains("# TYPE envoy_cluster_upstream_rq_pending_active gauge\n")
        .contains("envoy_cluster_upstream_rq_pending_active{envoy_cluster_name=\"stall\"} 0\n");
  }

  @Test
  void anHttp2RequestWaitingForAStreamIsCancelledWhenItsClientGoes() throws Exception {
    try (Socket held = send("/h2/held")) {
      await().atMost(Duration.ofSeconds(20)).until(() -> h2.held() == 1);
      try (Socket waiting = send("/h2/waiting")) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> gauge("cluster.h2.upstream_rq_pending_active") == 1);
      }
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> stat("cluster.h2.upstream_rq_cancelled") == 1);
      assertThat(gauge("cluster.h2.upstream_rq_pending_active")).isZero();
      h2.release();
      String response =
          new String(held.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
      assertThat(response).isEqualTo("HTTP/1.1 200");
    }
    // the cancelled request never reached the backend
    assertThat(h2.requests.get()).isEqualTo(1);
  }
}
