package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bowline.agent.SdsServer;
import dev.bowline.agent.SettableCertificateSource;
import dev.bowline.agent.WorkloadCertificate;
import dev.bowline.ca.TrustBundle;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.tls.SanMatcher;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio-shaped mutual TLS between two proxies over real sockets: a "client sidecar" whose clusters
 * pick TLS per endpoint by {@code transport_socket_matches} ({@code tlsMode: istio}) and a "server
 * sidecar" whose listeners choose TLS or plaintext chains with {@code tls_inspector}. Certificates
 * and trust bundles come over SDS from the real agent's SDS server on a Unix socket, as Istio's
 * bootstrap wires {@code sds-grpc}.
 */
class TlsProxyTest {
  static final String SERVER_IP = "127.0.7.1";
  static final String CLIENT_IP = "127.0.7.2";
  static final String SERVER_ID = "spiffe://cluster.local/ns/default/sa/server";
  static final String CLIENT_ID = "spiffe://cluster.local/ns/default/sa/client";

  @TempDir static Path dir;
  static TestPki pki;
  static Backend backend;
  static SettableCertificateSource serverCerts;
  static SettableCertificateSource clientCerts;
  static SdsServer serverSds;
  static SdsServer clientSds;
  static Proxy server;
  static Proxy client;
  static int strictPort;
  static int permissivePort;
  static int outPort;
  static int sniffedPort;
  static int alpnOutPort;
  static final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String sds(String name) {
    return """
        {name: %s, sds_config: {resource_api_version: V3, api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: sds-grpc}}]}}}"""
        .formatted(name);
  }

  static String sdsCluster(Path socket) {
    return """
          - name: sds-grpc
            type: STATIC
            http2_protocol_options: {}
            load_assignment:
              cluster_name: sds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: "%s"}}}}]}]
        """
        .formatted(socket);
  }

  static String hcm(String prefix, String routes) {
    return hcm(prefix, routes, "");
  }

  /** Istio's inbound sidecar XFCC settings. */
  static final String ISTIO_INBOUND_XFCC =
      "forward_client_cert_details: APPEND_FORWARD\n"
          + "          set_current_client_cert_details: {subject: true, dns: true, uri: true}";

  static String hcm(String prefix, String routes, String extra) {
    return """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  %s
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [%s]
        """
        .formatted(prefix, extra, routes);
  }

  static String mtlsChain() {
    return """
            - filter_chain_match: {transport_protocol: tls, application_protocols: [istio-peer-exchange, istio, istio-http/1.1]}
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    alpn_protocols: [h2, http/1.1]
                    tls_certificate_sds_secret_configs: [%s]
                    combined_validation_context:
                      default_validation_context:
                        match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
                      validation_context_sds_secret_config: %s
              filters:
        %s"""
        .formatted(
            sds("default"),
            sds("ROOTCA"),
            hcm(
                "inbound_mtls",
                "{match: {prefix: /}, route: {cluster: backend}}",
                ISTIO_INBOUND_XFCC));
  }

  /** istiod 1.16's {@code istio.alpn} filter, as an entry of {@code http_filters}. */
  static final String ISTIO_ALPN =
      """
                  - name: istio.alpn
                    typed_config:
                      "@type": type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig
                      alpn_override:
                      - {upstream_protocol: HTTP10, alpn_override: [istio-http/1.0, istio, http/1.0]}
                      - {upstream_protocol: HTTP11, alpn_override: [istio-http/1.1, istio, http/1.1]}
                      - {upstream_protocol: HTTP2, alpn_override: [istio-h2, istio, h2]}
        """;

  /** A server mTLS chain for the ALPN {@code alpns}, whose HCM counts under {@code prefix}. */
  static String alpnChain(String prefix, String alpns) {
    return mtlsChain()
        .replace("istio-peer-exchange, istio, istio-http/1.1", alpns)
        .replace("stat_prefix: inbound_mtls", "stat_prefix: " + prefix);
  }

  static String upstreamTls(String san) {
    return """
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                  sni: outbound_.8080_._.server.default.svc.cluster.local
                  common_tls_context:
                    alpn_protocols: [istio-peer-exchange, istio]
                    tls_certificate_sds_secret_configs: [%s]
                    combined_validation_context:
                      default_validation_context:
                        match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "%s"}}]
                      validation_context_sds_secret_config: %s
        """
        .formatted(sds("default"), san, sds("ROOTCA"));
  }

  /** A cluster to {@code port} on the server proxy; {@code tls} as Istio's auto mTLS shapes it. */
  static String cluster(String name, int port, boolean istioEndpoint, String san) {
    String metadata =
        istioEndpoint
            ? ", metadata: {filter_metadata: {envoy.transport_socket_match: {tlsMode: istio}}}"
            : "";
    return """
          - name: %s
            type: STATIC
            transport_socket_matches:
            - name: tlsMode-istio
              match: {tlsMode: istio}
              transport_socket:
        %s
            - name: tlsMode-disabled
              match: {}
              transport_socket: {name: envoy.transport_sockets.raw_buffer, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}
            load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}%s}]}]
        """
        .formatted(name, upstreamTls(san).indent(4), name, SERVER_IP, port, metadata);
  }

  static WorkloadCertificate workload(TestPki.Issued issued) {
    return new WorkloadCertificate(
        issued.key().getPrivate(),
        List.of(issued.cert()),
        new TrustBundle(List.of(pki.root)),
        Instant.now());
  }

  @BeforeAll
  static void start() {
    pki = new TestPki("test root");
    backend = new Backend("b", "127.0.7.3");
    serverCerts = new SettableCertificateSource();
    clientCerts = new SettableCertificateSource();
    serverCerts.set(workload(pki.issue(SERVER_ID)));
    clientCerts.set(workload(pki.issue(CLIENT_ID)));
    serverSds = SdsServer.start(serverCerts, dir.resolve("s.sock"), Clock.systemUTC());
    clientSds = SdsServer.start(clientCerts, dir.resolve("c.sock"), Clock.systemUTC());
    strictPort = Ports.free(SERVER_IP);
    permissivePort = Ports.free(SERVER_IP);
    outPort = Ports.free(CLIENT_IP);
    sniffedPort = Ports.free(SERVER_IP);
    alpnOutPort = Ports.free(CLIENT_IP);
    String tlsInspector =
        "{name: envoy.filters.listener.tls_inspector, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}";
    String serverYaml =
        """
        node: {id: server, cluster: test}
        static_resources:
          clusters:
        %s
          - name: backend
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
          listeners:
          - name: strict
            address: {socket_address: {address: %s, port_value: %d}}
            listener_filters: [%s]
            filter_chains:
        %s
          - name: permissive
            address: {socket_address: {address: %s, port_value: %d}}
            listener_filters: [%s]
            filter_chains:
        %s
            - filter_chain_match: {transport_protocol: raw_buffer}
              filters:
        %s
          - name: sniffed
            address: {socket_address: {address: %s, port_value: %d}}
            listener_filters: [%s]
            filter_chains:
        %s
        %s
        """
            .formatted(
                sdsCluster(dir.resolve("s.sock")),
                backend.ip(),
                backend.port(),
                SERVER_IP,
                strictPort,
                tlsInspector,
                mtlsChain(),
                SERVER_IP,
                permissivePort,
                tlsInspector,
                mtlsChain(),
                hcm("inbound_plain", "{match: {prefix: /}, route: {cluster: backend}}"),
                SERVER_IP,
                sniffedPort,
                tlsInspector,
                alpnChain("inbound_http_alpn", "istio-http/1.0, istio-http/1.1, istio-h2"),
                alpnChain("inbound_tcp_alpn", "istio-peer-exchange, istio"));
    String routes =
        String.join(
            ", ",
            List.of(
                "{match: {prefix: /strict}, route: {cluster: mtls-strict}}",
                "{match: {prefix: /plain-strict}, route: {cluster: plain-strict}}",
                "{match: {prefix: /wrong-san}, route: {cluster: wrong-san}}",
                "{match: {prefix: /mtls-permissive}, route: {cluster: mtls-permissive}}",
                "{match: {prefix: /plain-permissive}, route: {cluster: plain-permissive}}",
                "{match: {prefix: /sniffed}, route: {cluster: mtls-sniffed}}"));
    String clientYaml =
        """
        node: {id: client, cluster: test}
        static_resources:
          clusters:
        %s
        %s
        %s
        %s
        %s
        %s
        %s
          listeners:
          - name: outbound
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
        %s
          - name: outbound-alpn
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
        %s
        """
            .formatted(
                sdsCluster(dir.resolve("c.sock")),
                cluster("mtls-strict", strictPort, true, SERVER_ID),
                cluster("plain-strict", strictPort, false, SERVER_ID),
                cluster(
                    "wrong-san", strictPort, true, "spiffe://cluster.local/ns/default/sa/other"),
                cluster("mtls-permissive", permissivePort, true, SERVER_ID),
                cluster("plain-permissive", permissivePort, false, SERVER_ID),
                cluster("mtls-sniffed", sniffedPort, true, SERVER_ID),
                CLIENT_IP,
                outPort,
                hcm("outbound", routes),
                CLIENT_IP,
                alpnOutPort,
                hcm("outbound_alpn", routes)
                    .replace("http_filters:\n", "http_filters:\n" + ISTIO_ALPN));
    BootstrapLoader loader = new BootstrapLoader();
    server =
        Proxy.start(
            loader.parse("server.yaml", serverYaml), ProxyOptions.defaults().withWorkers(1));
    client =
        Proxy.start(
            loader.parse("client.yaml", clientYaml), ProxyOptions.defaults().withWorkers(1));
    await().atMost(Duration.ofSeconds(20)).until(() -> server.ready() && client.ready());
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {client, server, serverSds, clientSds, backend}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  static HttpResponse<String> get(String path) throws Exception {
    return get(outPort, path);
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://" + CLIENT_IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static long stat(Proxy p, String name) {
    return p.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  /**
   * {@code istio.alpn} on the client's connection manager makes the TLS upstream offer {@code
   * istio-http/1.1, istio, http/1.1} instead of the cluster's {@code istio-peer-exchange, istio}:
   * the server picks its chain by it. The same cluster serves both kinds of request, each on
   * connections of its own (pooled per ALPN, as Envoy keys its pools): alternating requests open
   * exactly one connection per ALPN.
   */
  @Test
  void theAlpnFilterOverridesTheUpstreamAlpnAndPoolsPerOverride() throws Exception {
    String http = "http.inbound_http_alpn.downstream_rq_total";
    String tcp = "http.inbound_tcp_alpn.downstream_rq_total";
    long cx = stat(client, "cluster.mtls-sniffed.upstream_cx_total");
    for (int i = 0; i < 3; i++) {
      assertThat(get(alpnOutPort, "/sniffed/" + i).statusCode()).isEqualTo(200);
      assertThat(get(outPort, "/sniffed/" + i).statusCode()).isEqualTo(200);
    }
    assertThat(stat(server, http)).isEqualTo(3);
    assertThat(stat(server, tcp)).isEqualTo(3);
    assertThat(stat(client, "cluster.mtls-sniffed.upstream_cx_total") - cx).isEqualTo(2);
  }

  @Test
  void istioEndpointsGetMutualTlsAndTheServerSeesTheClientIdentity() throws Exception {
    long before = stat(server, "listener." + SERVER_IP + "_" + strictPort + ".ssl.handshake");
    var r = get("/strict/a");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("backend=b path=/strict/a");
    assertThat(stat(server, "listener." + SERVER_IP + "_" + strictPort + ".ssl.handshake"))
        .isGreaterThan(before);
    assertThat(stat(client, "cluster.mtls-strict.ssl.handshake")).isPositive();
    assertThat(server.tls().providerName()).isIn("BoringSSL", "JDK");
  }

  @Test
  void theServerSidecarTellsTheAppWhoCalledInXForwardedClientCert() throws Exception {
    // What the app sends is never trusted: the client sidecar's outbound HCM sanitizes it.
    var r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://" + CLIENT_IP + ":" + outPort + "/strict/xfcc"))
                .header("x-forwarded-client-cert", "By=spiffe://evil/ns/x/sa/y;Hash=00")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    String xfcc = r.body().substring(r.body().indexOf("xfcc=") + 5);
    // Hash: SHA-256 of the client's DER certificate (which one depends on rotations by other tests)
    assertThat(xfcc)
        .matches(
            "By="
                + java.util.regex.Pattern.quote(SERVER_ID)
                + ";Hash=[0-9a-f]{64};Subject=\"\";URI="
                + java.util.regex.Pattern.quote(CLIENT_ID));
    assertThat(r.body()).doesNotContain("evil");
  }

  @Test
  void strictListenerRefusesPlaintextFromTheClientSidecar() throws Exception {
    long before =
        stat(server, "listener." + SERVER_IP + "_" + strictPort + ".no_filter_chain_match");
    var r = get("/plain-strict");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(stat(server, "listener." + SERVER_IP + "_" + strictPort + ".no_filter_chain_match"))
        .isGreaterThan(before);
  }

  @Test
  void serverWithTheWrongSpiffeIdIsRejected() throws Exception {
    var r = get("/wrong-san");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(stat(client, "cluster.wrong-san.ssl.fail_verify_san")).isPositive();
  }

  @Test
  void permissiveListenerServesBothMutualTlsAndPlaintext() throws Exception {
    String hs = "listener." + SERVER_IP + "_" + permissivePort + ".ssl.handshake";
    long before = stat(server, hs);
    var tls = get("/mtls-permissive");
    assertThat(tls.statusCode()).isEqualTo(200);
    long afterTls = stat(server, hs);
    assertThat(afterTls).isGreaterThan(before);
    var plain = get("/plain-permissive");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.body()).contains("backend=b path=/plain-permissive");
    assertThat(stat(server, hs)).isEqualTo(afterTls); // the plaintext request made no handshake
  }

  /** A raw TLS client, as a peer sidecar would connect: what the wire shows. */
  static SSLSocket probe(int port, TestPki.Issued clientCert, List<String> alpn) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", pki.root);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    if (clientCert != null) {
      keys.setKeyEntry(
          "me",
          clientCert.key().getPrivate(),
          new char[0],
          new X509Certificate[] {clientCert.cert()});
    }
    kmf.init(keys, new char[0]);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(SERVER_IP, port);
    s.setSoTimeout(10_000);
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(alpn.toArray(String[]::new));
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  static String exchange(SSLSocket s) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write(
        ("GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void onTheWireTheServerPresentsItsSpiffeIdAndRequiresAClientCertificate() throws Exception {
    TestPki.Issued me = pki.issue(CLIENT_ID);
    try (SSLSocket s = probe(strictPort, me, List.of("istio-peer-exchange", "istio"))) {
      X509Certificate peer = (X509Certificate) s.getSession().getPeerCertificates()[0];
      assertThat(SanMatcher.sans(peer, SanMatcher.Type.URI)).containsExactly(SERVER_ID);
      assertThat(exchange(s)).startsWith("HTTP/1.1 200").contains("backend=b path=/probe");
    }
    // No client certificate: refused (TLS 1.3 reports it on the first read)
    assertThatThrownBy(
            () -> {
              try (SSLSocket s = probe(strictPort, null, List.of("istio"))) {
                String answer = exchange(s);
                assertThat(answer).isEmpty();
                throw new javax.net.ssl.SSLException("closed without an answer");
              }
            })
        .isInstanceOf(java.io.IOException.class);
    // A certificate from another root: refused
    TestPki other = new TestPki("foreign root");
    assertThatThrownBy(
            () -> {
              try (SSLSocket s = probe(strictPort, other.issue(CLIENT_ID), List.of("istio"))) {
                String answer = exchange(s);
                assertThat(answer).isEmpty();
                throw new javax.net.ssl.SSLException("closed without an answer");
              }
            })
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void secretsFromAnUnknownSdsClusterNeverArriveButDoNotKeepTheProxyUnready() throws Exception {
    int port = Ports.free(CLIENT_IP);
    String yaml =
        """
        node: {id: no-agent, cluster: test}
        static_resources:
          clusters:
        %s
          listeners:
          - name: out
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
        %s
        """
            .formatted(
                cluster("mtls-strict", strictPort, true, SERVER_ID),
                CLIENT_IP,
                port,
                hcm("noagent", "{match: {prefix: /}, route: {cluster: mtls-strict}}"));
    try (Proxy p =
        Proxy.start(
            new BootstrapLoader().parse("no-agent.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1))) {
      assertThat(p.ready()).as("no sds-grpc cluster: nothing to wait for").isTrue();
      var r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + CLIENT_IP + ":" + port + "/x"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("no certificate, no TLS connection").isEqualTo(503);
      assertThat(stat(p, "cluster.mtls-strict.ssl.connection_error")).isPositive();
    }
  }

  @Test
  void rotatedCertificatesServeNewHandshakesWhileOpenConnectionsKeepGoing() throws Exception {
    assertThat(get("/strict/warm").statusCode()).isEqualTo(200);
    long handshakes = stat(client, "cluster.mtls-strict.ssl.handshake");
    TestPki.Issued next = pki.issue(SERVER_ID);
    serverCerts.set(workload(next));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try (SSLSocket s = probe(strictPort, pki.issue(CLIENT_ID), List.of("istio"))) {
                X509Certificate peer = (X509Certificate) s.getSession().getPeerCertificates()[0];
                return peer.getSerialNumber().equals(next.cert().getSerialNumber());
              }
            });
    // The client sidecar's pooled TLS connection to the server survived the rotation
    for (int i = 0; i < 5; i++) {
      assertThat(get("/strict/after-" + i).statusCode()).isEqualTo(200);
    }
    assertThat(stat(client, "cluster.mtls-strict.ssl.handshake")).isEqualTo(handshakes);
  }
}
