package dev.bowline.proxy;

import static dev.bowline.proxy.ClientAddressProxyTest.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code :scheme} an HTTP/2 upstream is sent, as Envoy's connection manager and router give it:
 * the downstream request's scheme (an HTTP/2 client's own; for HTTP/1 a valid {@code
 * x-forwarded-proto} as the connection manager left it, else the downstream transport's), not the
 * upstream transport's, unless {@code scheme_header_transformation.match_upstream}; {@code
 * scheme_to_overwrite} replaces it. Netty's {@code x-http2-scheme} carrier never shows in an access
 * log, and an HTTP/1 upstream's head is as before. A plaintext HTTP/2 backend on 127.0.7.191 that
 * keeps the last head it got, an HTTP/1 backend on 127.0.7.192 that echoes its head, clients from
 * 127.0.7.193.
 */
class UpstreamSchemeProxyTest {
  static final String IP = "127.0.7.190";
  static final String PEER = "127.0.7.193";
  static TestPki pki;
  static H2Backend h2;
  static ScriptedBackend h1;
  static SocketProxy proxy;
  static Path log;
  static final Map<String, Integer> PORTS = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki("h2scheme root");
    TestPki.Issued cert = pki.issue("proxy.test");
    log = Files.createTempFile("h2scheme", ".log");
    h2 = new H2Backend("h2", "127.0.7.191", 0, 0);
    h1 = ScriptedBackend.echo("127.0.7.192");
    String logged =
        SocketProxy.accessLog(
            log, "%REQ(:PATH)% %REQ(X-HTTP2-SCHEME)% %REQ(X-FORWARDED-PROTO)%\\n");
    var b = SocketProxy.on(IP);
    listener(b, "tls", logged, "h2", cert);
    listener(b, "tls-h1", logged, "h1", cert);
    listener(b, "tls-match", "scheme_header_transformation: {match_upstream: true}", "h2", cert);
    listener(
        b, "tls-http", "scheme_header_transformation: {scheme_to_overwrite: http}", "h2", cert);
    listener(b, "sidecar", "", "h2", null);
    listener(b, "edge", "use_remote_address: true", "h2", null);
    listener(b, "trusted", "use_remote_address: true\nxff_num_trusted_hops: 1", "h2", null);
    listener(b, "h2c", "codec_type: HTTP2", "h2", null);
    proxy =
        b.cluster(
                "h2",
                h2.ip(),
                h2.port(),
                SocketProxy.httpProtocolOptions(
                    "explicit_http_config: {http2_protocol_options: {}}"))
            .cluster("h1", "127.0.7.192", h1.port())
            .start();
  }

  static void listener(
      SocketProxy.Builder b,
      String name,
      String options,
      String cluster,
      TestPki.@org.jspecify.annotations.Nullable Issued cert) {
    int port = Ports.free(IP);
    PORTS.put(name, port);
    String l = SocketProxy.listener(name, IP, port, options, SocketProxy.to("/", cluster));
    b.listener(cert == null ? l : ConnectionLifeStatsProxyTest.tls(l, cert));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    h2.close();
    h1.close();
    Files.deleteIfExists(log);
  }

  /** A GET of {@code path} with {@code Connection: close}: all the proxy wrote until it closed. */
  static String get(String name, String path, String... headers) throws Exception {
    boolean tls = name.startsWith("tls");
    Socket plain = new Socket();
    plain.bind(new InetSocketAddress(PEER, 0));
    plain.connect(new InetSocketAddress(IP, PORTS.get(name)), 30_000);
    try (Socket s =
        tls
            ? trusting().getSocketFactory().createSocket(plain, "proxy.test", plain.getPort(), true)
            : plain) {
      s.setSoTimeout(60_000);
      if (s instanceof SSLSocket ssl) {
        ssl.startHandshake();
      }
      StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: t\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    } finally {
      plain.close();
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

  /** The {@code :scheme} and {@code x-forwarded-proto} of the HTTP/2 backend's last request. */
  static String seen() {
    var head = h2.lastHead;
    assertThat(head).isNotNull();
    assertThat(head.contains("x-http2-scheme")).isFalse();
    return head.scheme() + " " + head.get("x-forwarded-proto");
  }

  @Test
  void aTlsClientsRequestKeepsHttpsOverAPlaintextHttp2Upstream() throws Exception {
    assertThat(get("tls", "/tls")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("https https");
  }

  @Test
  void nettysSchemeCarrierHeaderIsOffTheHeadBeforeTheAccessLogReadsIt() throws Exception {
    assertThat(get("tls", "/carrier")).startsWith("HTTP/1.1 200");
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> SocketProxy.logLines(log).stream().anyMatch(l -> l.startsWith("/carrier ")));
    assertThat(SocketProxy.logLines(log)).contains("/carrier - https");
  }

  @Test
  void matchUpstreamSendsTheUpstreamTransportsScheme() throws Exception {
    assertThat(get("tls-match", "/m")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("http https");
  }

  @Test
  void schemeToOverwriteReplacesTheDownstreamScheme() throws Exception {
    assertThat(get("tls-http", "/o")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("http http");
  }

  @Test
  void aPlaintextRequestsForwardedProtoIsItsSchemeWhereTheConnectionManagerKeepsIt()
      throws Exception {
    // a sidecar keeps a client's x-forwarded-proto, and so the request's scheme
    assertThat(get("sidecar", "/s", "x-forwarded-proto", "https")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("https https");
    // an edge trusting one hop in front keeps it too
    assertThat(get("trusted", "/t", "x-forwarded-proto", "https")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("https https");
    // an edge with no trusted hops replaces it with its own transport's
    assertThat(get("edge", "/e", "x-forwarded-proto", "https")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("http http");
    // not a scheme Envoy knows: the transport's, the header as it came
    assertThat(get("sidecar", "/s", "x-forwarded-proto", "wss")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("http wss");
    assertThat(get("sidecar", "/s")).startsWith("HTTP/1.1 200");
    assertThat(seen()).isEqualTo("http http");
  }

  @Test
  void anHttp2ClientsOwnSchemeIsSentOn() throws Exception {
    try (RawH2 c = RawH2.open(IP, PORTS.get("h2c"))) {
      c.headers(
          1,
          new DefaultHttp2Headers().method("GET").path("/h").scheme("https").authority("t"),
          true);
      c.readUntil(new java.util.ArrayList<>(), f -> RawH2.has(f, RawH2.DATA, 1));
    }
    // its x-forwarded-proto is the connection's (a plaintext one): Envoy's, the two may differ
    assertThat(seen()).isEqualTo("https http");
  }

  @Test
  void anHttp1UpstreamSeesNoCarrierHeader() throws Exception {
    String r = get("tls-h1", "/one");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(upstream(r, "x-forwarded-proto")).isEqualTo("https");
    assertThat(upstream(r, "x-http2-scheme")).isNull();
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> SocketProxy.logLines(log).contains("/one - https"));
    assertThat(List.of(upstream(r, "host"))).containsExactly("t");
  }
}
