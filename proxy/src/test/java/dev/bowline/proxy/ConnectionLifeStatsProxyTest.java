package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's stats of a downstream connection's life that parity14 left out (decision 0004, session 17
 * addendum): the connection manager's {@code downstream_rq_active} and {@code
 * downstream_cx_ssl_total}/{@code _ssl_active} gauges and counter and its {@code
 * downstream_cx_length_ms} histogram; the listener's {@code downstream_cx_active}, {@code
 * downstream_cx_destroy} and {@code downstream_cx_length_ms}; and a failed TLS handshake counted as
 * the client's close ({@code downstream_cx_destroy_remote}), as Envoy's SSL socket reports it. Read
 * from the admin's {@code /stats} and {@code /stats/prometheus} over real sockets; each test has a
 * listener of its own, so each value is exactly that test's.
 */
class ConnectionLifeStatsProxyTest {
  static final String IP = "127.0.7.53";
  static TestPki pki;
  static NettyBackend backend;
  static SocketProxy proxy;
  static final Map<String, Integer> PORTS = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki("stats15 root");
    TestPki.Issued cert = pki.issue("proxy.test");
    backend = new NettyBackend("b", "127.0.7.54");
    List<String> listeners = new java.util.ArrayList<>();
    for (String name : List.of("life", "abandon", "jdk", "h2")) {
      int port = Ports.free(IP);
      PORTS.put(name, port);
      String options = name.equals("h2") ? "codec_type: HTTP2" : "";
      listeners.add(SocketProxy.listener(name, IP, port, options, SocketProxy.to("/", "b")));
    }
    for (String name : List.of("tls", "tlsfail")) {
      int port = Ports.free(IP);
      PORTS.put(name, port);
      listeners.add(tls(SocketProxy.listener(name, IP, port, "", SocketProxy.to("/", "b")), cert));
    }
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1),
            true,
            listeners,
            List.of(SocketProxy.cluster("b", backend.ip(), backend.port(), "")));
  }

  /** {@code listener} (from {@link SocketProxy#listener}) with TLS presenting {@code cert}. */
  static String tls(String listener, TestPki.Issued cert) {
    String socket =
        """
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    tls_certificates:
                    - certificate_chain: {inline_string: "%s"}
                      private_key: {inline_string: "%s"}
              filters:
        """
            .formatted(cert.certPem().replace("\n", "\\n"), cert.keyPem().replace("\n", "\\n"));
    String chain = "    - filters:\n";
    assertThat(listener).contains(chain);
    return listener.replace(chain, socket);
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /** The admin's {@code /stats} lines, name to value text. */
  static Map<String, String> stats() throws Exception {
    Map<String, String> out = new HashMap<>();
    for (String line : proxy.admin("/stats").split("\n")) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return out;
  }

  /** {@code /stats}' value of {@code http.<prefix>.<name>}. */
  static String http(String prefix, String name) throws Exception {
    return stats().get("http." + prefix + "." + name);
  }

  /** {@code /stats}' value of {@code listener.<ip>_<port>.<name>} of listener {@code prefix}. */
  static String listener(String prefix, String name) throws Exception {
    return stats().get(listenerPrefix(prefix) + name);
  }

  static String listenerPrefix(String prefix) {
    return "listener." + IP + "_" + PORTS.get(prefix) + ".";
  }

  static void awaitHttp(String prefix, String name, String value) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(http(prefix, name)).isEqualTo(value));
  }

  static Socket open(String prefix) throws IOException {
    Socket s = new Socket(IP, PORTS.get(prefix));
    s.setSoTimeout(60_000);
    return s;
  }

  static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  /**
   * One HTTP/1 connection with a request half sent, then answered, then closed by the client: the
   * stream and connection gauges while each is open, and each histogram's one value once it ended,
   * on {@code /stats} and {@code /stats/prometheus} under Envoy's names.
   */
  @Test
  void anHttp1ConnectionsLifeShowsInTheGaugesAndHistograms() throws Exception {
    String p = "life";
    String address = IP + "_" + PORTS.get(p);
    try (Socket s = open(p)) {
      send(s, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
      awaitHttp(p, "downstream_rq_total", "1");
      assertThat(http(p, "downstream_rq_active")).isEqualTo("1");
      assertThat(http(p, "downstream_cx_active")).isEqualTo("1");
      assertThat(listener(p, "downstream_cx_active")).isEqualTo("1");
      assertThat(listener(p, "downstream_cx_destroy")).isEqualTo("0");
      assertThat(http(p, "downstream_cx_ssl_total")).isEqualTo("0");
      assertThat(http(p, "downstream_cx_length_ms")).isEqualTo("No recorded values");
      assertThat(proxy.admin("/stats/prometheus"))
          .contains("envoy_http_downstream_rq_active{envoy_http_conn_manager_prefix=\"life\"} 1\n")
          .contains(
              "envoy_listener_downstream_cx_active{envoy_listener_address=\""
                  + address
                  + "\"} 1\n");

      send(s, "cd");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      awaitHttp(p, "downstream_rq_active", "0");
    }
    awaitHttp(p, "downstream_cx_destroy", "1");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(listener(p, "downstream_cx_destroy")).isEqualTo("1"));
    Map<String, String> stats = stats();
    assertThat(stats)
        .containsEntry(listenerPrefix(p) + "downstream_cx_active", "0")
        .containsEntry(listenerPrefix(p) + "downstream_cx_total", "1")
        .containsEntry("http.life.downstream_cx_active", "0");
    // Envoy's quantile summary: P0(interval,cumulative) ... P100(...)
    assertThat(stats.get("http.life.downstream_cx_length_ms"))
        .matches("P0\\(nan,[0-9.]+\\) P25\\(nan,[0-9.]+\\) .* P100\\(nan,[0-9.]+\\)");
    assertThat(stats.get(listenerPrefix(p) + "downstream_cx_length_ms")).startsWith("P0(nan,");
    String prom = proxy.admin("/stats/prometheus");
    assertThat(prom)
        .contains("# TYPE envoy_http_downstream_cx_length_ms histogram\n")
        .contains(
            "envoy_http_downstream_cx_length_ms_bucket{envoy_http_conn_manager_prefix=\"life\",le=\"+Inf\"} 1\n")
        .contains(
            "envoy_http_downstream_cx_length_ms_count{envoy_http_conn_manager_prefix=\"life\"} 1\n")
        .contains("# TYPE envoy_listener_downstream_cx_length_ms histogram\n")
        .contains(
            "envoy_listener_downstream_cx_length_ms_count{envoy_listener_address=\""
                + address
                + "\"} 1\n")
        .contains(
            "envoy_listener_downstream_cx_destroy{envoy_listener_address=\"" + address + "\"} 1\n");
  }

  /** A stream the client abandons (closed mid-body) leaves the gauge as it found it. */
  @Test
  void aStreamTheClientAbandonsIsNoLongerActive() throws Exception {
    String p = "abandon";
    try (Socket s = open(p)) {
      send(s, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
      awaitHttp(p, "downstream_rq_active", "1");
    }
    awaitHttp(p, "downstream_cx_destroy", "1");
    awaitHttp(p, "downstream_rq_active", "0");
    assertThat(http(p, "downstream_cx_destroy_remote_active_rq")).isEqualTo("1");
  }

  /**
   * HTTP/2: two streams open on one connection, one reset by the client (RST_STREAM CANCEL), the
   * other ended and answered; each leaves the gauge as it ends.
   */
  @Test
  void http2StreamsAreActiveUntilEachEnds() throws Exception {
    String p = "h2";
    try (RawH2 c = RawH2.open(IP, PORTS.get(p))) {
      c.socket().setSoTimeout(60_000);
      c.headers(1, RawH2.request("POST", "/x"), false);
      c.headers(3, RawH2.request("POST", "/y"), false);
      awaitHttp(p, "downstream_rq_active", "2");
      assertThat(http(p, "downstream_rq_total")).isEqualTo("2");
      c.frames((w, x) -> w.writeRstStream(x, 1, 8 /* CANCEL */, x.newPromise()));
      awaitHttp(p, "downstream_rq_active", "1");
      c.data(3, "body".getBytes(StandardCharsets.US_ASCII), true);
      RawH2.Frame answer = c.readUntil(RawH2.HEADERS);
      assertThat(answer).isNotNull();
      awaitHttp(p, "downstream_rq_active", "0");
      assertThat(http(p, "downstream_cx_active")).isEqualTo("1");
    }
    awaitHttp(p, "downstream_cx_destroy", "1");
    assertThat(http(p, "downstream_rq_active")).isEqualTo("0");
  }

  /** The JDK's client: two requests on its connection, then the client closed. */
  @Test
  void theJdkClientsRequestsAndConnectionAreCountedOnBothLevels() throws Exception {
    String p = "jdk";
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      for (int i = 0; i < 2; i++) {
        var r =
            c.send(
                HttpRequest.newBuilder(URI.create("http://" + IP + ":" + PORTS.get(p) + "/j"))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
      }
      awaitHttp(p, "downstream_rq_active", "0");
      assertThat(http(p, "downstream_rq_total")).isEqualTo("2");
      assertThat(listener(p, "downstream_cx_active")).isEqualTo(http(p, "downstream_cx_active"));
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(listener(p, "downstream_cx_active")).isEqualTo("0"));
    Map<String, String> stats = stats();
    String connections = stats.get("http.jdk.downstream_cx_total");
    assertThat(stats)
        .containsEntry(listenerPrefix(p) + "downstream_cx_destroy", connections)
        .containsEntry("http.jdk.downstream_cx_destroy", connections)
        .containsEntry("http.jdk.downstream_cx_active", "0");
    assertThat(proxy.admin("/stats/prometheus"))
        .contains(
            "envoy_http_downstream_cx_length_ms_count{envoy_http_conn_manager_prefix=\"jdk\"} "
                + connections
                + "\n");
  }

  /** A TLS connection: counted as one while it is open, then not. */
  @Test
  void aTlsConnectionIsCountedAsSslWhileItIsOpen() throws Exception {
    String p = "tls";
    try (SSLSocket s = (SSLSocket) trusting().getSocketFactory().createSocket(IP, PORTS.get(p))) {
      s.setSoTimeout(60_000);
      send(s, "GET /t HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(http(p, "downstream_cx_ssl_total")).isEqualTo("1");
      assertThat(http(p, "downstream_cx_ssl_active")).isEqualTo("1");
      assertThat(proxy.admin("/stats/prometheus"))
          .contains(
              "envoy_http_downstream_cx_ssl_active{envoy_http_conn_manager_prefix=\"tls\"} 1\n")
          .contains(
              "envoy_http_downstream_cx_ssl_total{envoy_http_conn_manager_prefix=\"tls\"} 1\n");
    }
    awaitHttp(p, "downstream_cx_destroy", "1");
    assertThat(http(p, "downstream_cx_ssl_active")).isEqualTo("0");
    assertThat(http(p, "downstream_cx_ssl_total")).isEqualTo("1");
    assertThat(http(p, "downstream_cx_destroy_remote")).isEqualTo("1");
  }

  /**
   * Handshakes that fail, on either side: plaintext sent to the TLS listener (the proxy's SSL
   * refuses it) and a client that does not trust the proxy's certificate (the client's alert).
   * Envoy's SSL socket answers both with {@code PostIoAction::Close}, which its connection turns
   * into {@code RemoteClose}: {@code downstream_cx_destroy_remote}, not {@code _local}.
   */
  @Test
  void aFailedTlsHandshakeIsARemoteDestroy() throws Exception {
    String p = "tlsfail";
    try (Socket s = open(p)) {
      send(s, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
      drain(s.getInputStream());
    }
    awaitHttp(p, "downstream_cx_destroy", "1");
    try (SSLSocket s =
        (SSLSocket) SSLContext.getDefault().getSocketFactory().createSocket(IP, PORTS.get(p))) {
      s.setSoTimeout(60_000);
      try {
        s.startHandshake();
        throw new AssertionError("the default trust store trusted the test root");
      } catch (javax.net.ssl.SSLException expected) {
        // the client refused the proxy's certificate and told it so
      }
    }
    awaitHttp(p, "downstream_cx_destroy", "2");
    Map<String, String> stats = stats();
    assertThat(stats)
        .containsEntry("http.tlsfail.downstream_cx_destroy_remote", "2")
        .containsEntry("http.tlsfail.downstream_cx_destroy_local", "0")
        .containsEntry("http.tlsfail.downstream_cx_ssl_total", "2")
        .containsEntry("http.tlsfail.downstream_cx_ssl_active", "0")
        .containsEntry(listenerPrefix(p) + "ssl.connection_error", "2");
  }

  /** Reads {@code in} until the peer closes or resets. */
  private static void drain(InputStream in) {
    try {
      while (in.read() >= 0) {
        // the proxy's alert, if any
      }
    } catch (IOException reset) {
      // the proxy reset the connection: ended as well
    }
  }

  private static SSLContext trusting() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", pki.root);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
