package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two proxies as two Istio sidecars on a TCP service over real mTLS sockets, configured as istiod
 * 1.16 configures them: the client's cluster carries the TCP metadata exchange as an upstream
 * filter and offers ALPN {@code istio-peer-exchange}, the server's TLS chain has the exchange as a
 * listener filter; both chains carry the stats filter as a network Wasm filter. Each side learns
 * the other's workload from the exchange (the app sees none of its bytes) and counts Istio's TCP
 * metrics with exact byte counts, peer labels and principals.
 */
class TcpTelemetryProxyTest {
  static final String CLIENT_IP = "127.0.7.11";
  static final String SERVER_IP = "127.0.7.12";
  static final String CLIENT_ID = "spiffe://cluster.local/ns/weather/sa/frontend";
  static final String SERVER_ID = "spiffe://cluster.local/ns/weather/sa/db";
  static final String CLUSTER = "outbound|5432||db.weather.svc.cluster.local";
  static final int REQUEST = 100;
  static final int RESPONSE = 250;

  static TestPki pki;
  static ServerSocket app;
  static final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  static final ConcurrentLinkedQueue<byte[]> seenByApp = new ConcurrentLinkedQueue<>();
  static Proxy client;
  static Proxy server;
  static int outboundPort;

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der).replace("\n", "\\n")
        + "\\n-----END "
        + type
        + "-----\\n";
  }

  static String oneLine(String pem) {
    return pem.strip().replace("\n", "\\n") + "\\n";
  }

  static String common(TestPki.Issued cert, String alpn, String peerSan) throws Exception {
    return common(pki, cert, alpn, peerSan);
  }

  /** A common TLS context presenting {@code cert} and trusting {@code ca}'s root. */
  static String common(TestPki ca, TestPki.Issued cert, String alpn, String peerSan)
      throws Exception {
    return """
                  common_tls_context:
                    alpn_protocols: [%s]
                    tls_certificates:
                    - certificate_chain: {inline_string: "%s"}
                      private_key: {inline_string: "%s"}
                    validation_context:
                      trusted_ca: {inline_string: "%s"}
                      match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "%s"}}]
        """
        .formatted(
            alpn,
            oneLine(cert.certPem()),
            oneLine(cert.keyPem()),
            pem("CERTIFICATE", ca.root.getEncoded()),
            peerSan);
  }

  static String node(String name, String app, String ip) {
    return """
        node:
          id: sidecar~%3$s~%1$s.weather~weather.svc.cluster.local
          cluster: %2$s.weather
          metadata:
            NAME: %1$s
            NAMESPACE: weather
            WORKLOAD_NAME: %1$s
            SERVICE_ACCOUNT: %2$s
            CLUSTER_ID: Kubernetes
            LABELS: {app: %2$s, version: v1}
        """
        .formatted(name, app, ip);
  }

  /** The exchange filter, at the indentation of a listener chain's filter list. */
  static final String MX =
      """
              - name: istio.metadata_exchange
                typed_config: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, protocol: istio-peer-exchange}
        """;

  static String stats(String rootId) {
    return """
              - name: istio.stats
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                  config:
                    root_id: %1$s
                    vm_config: {vm_id: tcp_%1$s, runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.stats}}}
                    configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: '{"debug": "false", "stat_prefix": "istio"}'}
        """
        .formatted(rootId);
  }

  static String tcpProxy(String cluster) {
    return """
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: "%1$s", cluster: "%1$s"}
        """
        .formatted(cluster);
  }

  static String clientBootstrap(TestPki.Issued cert, int serverPort) throws Exception {
    return node("frontend-v1", "frontend", CLIENT_IP)
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
          - name: 0.0.0.0_5432
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            traffic_direction: OUTBOUND
            filter_chains:
            - filters:
        """
            .formatted(CLIENT_IP, Ports.free(CLIENT_IP), outboundPort)
        + stats("stats_outbound")
        + tcpProxy(CLUSTER)
        + """
          clusters:
          - name: "%s"
            type: STATIC
            filters:
        """
            .formatted(CLUSTER)
        + MX.indent(-2)
        + """
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: outbound_.5432_._.db.weather.svc.cluster.local
        """
        + common(cert, "istio-peer-exchange, istio", SERVER_ID).indent(-2)
        + """
            load_assignment:
              cluster_name: db
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(SERVER_IP, serverPort);
  }

  static String serverBootstrap(TestPki.Issued cert, int port) throws Exception {
    return node("db-v1", "db", SERVER_IP)
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
          - name: %1$s_5432
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            traffic_direction: INBOUND
            listener_filters: [{name: envoy.filters.listener.tls_inspector, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}]
            filter_chains:
            - filter_chain_match: {transport_protocol: tls}
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
        """
            .formatted(SERVER_IP, Ports.free(SERVER_IP), port)
        + common(cert, "istio-peer-exchange, h2, http/1.1", "spiffe://cluster.local/")
        + "      filters:\n"
        + MX
        + stats("stats_inbound")
        + tcpProxy("inbound|5432||")
        + """
          clusters:
          - name: "inbound|5432||"
            type: STATIC
            metadata:
              filter_metadata:
                istio:
                  services: [{host: db.weather.svc.cluster.local, name: db, namespace: weather}]
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(SERVER_IP, app.getLocalPort());
  }

  /** The app: reads the request, answers RESPONSE bytes, and closes when the client does. */
  static void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      byte[] got = in.readNBytes(REQUEST);
      seenByApp.add(got);
      OutputStream out = s.getOutputStream();
      byte[] answer = new byte[RESPONSE];
      Arrays.fill(answer, (byte) 'r');
      out.write(answer);
      out.flush();
      in.readAllBytes(); // until the client closes
    } catch (Exception e) {
      // the test's assertions say what went wrong
    }
  }

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki("tcp telemetry root");
    app = new ServerSocket();
    app.bind(new InetSocketAddress(SERVER_IP, 0));
    threads.execute(
        () -> {
          while (!app.isClosed()) {
            try {
              Socket s = app.accept();
              threads.execute(() -> serve(s));
            } catch (Exception e) {
              return;
            }
          }
        });
    int serverPort = Ports.free(SERVER_IP);
    server =
        Proxy.start(
            new BootstrapLoader()
                .parse("server.yaml", serverBootstrap(pki.issue(SERVER_ID), serverPort)),
            ProxyOptions.defaults().withWorkers(2));
    outboundPort = Ports.free(CLIENT_IP);
    client =
        Proxy.start(
            new BootstrapLoader()
                .parse("client.yaml", clientBootstrap(pki.issue(CLIENT_ID), serverPort)),
            ProxyOptions.defaults().withWorkers(2));
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    if (app != null) {
      app.close();
    }
    threads.shutdownNow();
  }

  /** One connection through the client's outbound listener: a request, the full answer, close. */
  static void call(int i) throws Exception {
    try (Socket s = new Socket(CLIENT_IP, outboundPort)) {
      s.setSoTimeout(10_000);
      byte[] request = new byte[REQUEST];
      Arrays.fill(request, (byte) ('a' + i));
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      byte[] answer = s.getInputStream().readNBytes(RESPONSE);
      assertThat(answer).hasSize(RESPONSE).containsOnly((byte) 'r');
    }
  }

  @Test
  void bothSidesLearnTheirPeerAndCountExactBytesOverMutualTls() throws Exception {
    int connections = 3;
    for (int i = 0; i < connections; i++) {
      call(i);
    }
    // the app saw exactly the client's bytes: no exchange frame leaked into the stream
    await().atMost(Duration.ofSeconds(10)).until(() -> seenByApp.size() == connections);
    for (byte[] got : seenByApp) {
      assertThat(got).hasSize(REQUEST);
      assertThat(new String(got)).matches("(a{100}|b{100}|c{100})");
    }

    Map<String, String> clientSide =
        Map.ofEntries(
            Map.entry("reporter", "source"),
            Map.entry("source_workload", "frontend-v1"),
            Map.entry("source_workload_namespace", "weather"),
            Map.entry("source_principal", CLIENT_ID),
            Map.entry("source_app", "frontend"),
            Map.entry("destination_workload", "db-v1"),
            Map.entry("destination_workload_namespace", "weather"),
            Map.entry("destination_principal", SERVER_ID),
            Map.entry("destination_app", "db"),
            Map.entry("destination_version", "v1"),
            Map.entry("destination_service", "db.weather.svc.cluster.local"),
            Map.entry("destination_service_name", "db"),
            Map.entry("destination_service_namespace", "weather"),
            Map.entry("destination_cluster", "Kubernetes"),
            Map.entry("request_protocol", "tcp"),
            Map.entry("response_flags", "-"),
            Map.entry("connection_security_policy", "unknown"));
    Map<String, String> serverSide =
        Map.ofEntries(
            Map.entry("reporter", "destination"),
            Map.entry("source_workload", "frontend-v1"),
            Map.entry("source_workload_namespace", "weather"),
            Map.entry("source_principal", CLIENT_ID),
            Map.entry("source_app", "frontend"),
            Map.entry("source_version", "v1"),
            Map.entry("source_cluster", "Kubernetes"),
            Map.entry("destination_workload", "db-v1"),
            Map.entry("destination_principal", SERVER_ID),
            Map.entry("destination_app", "db"),
            // from the inbound cluster's istio.services metadata, as istiod sets it
            Map.entry("destination_service", "db.weather.svc.cluster.local"),
            Map.entry("destination_service_name", "db"),
            Map.entry("destination_service_namespace", "weather"),
            Map.entry("request_protocol", "tcp"),
            Map.entry("response_flags", "-"),
            Map.entry("connection_security_policy", "mutual_tls"));
    // closes travel client -> server asynchronously: wait for both sides to count them
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                value(client, "istio_tcp_connections_closed_total", clientSide) == connections
                    && value(server, "istio_tcp_connections_closed_total", serverSide)
                        == connections);
    String c = TelemetryProxyTest.prometheus(client);
    assertThat(TelemetryProxyTest.value(c, "istio_tcp_connections_opened_total", clientSide))
        .isEqualTo(connections);
    // the client proxy received the app's requests and sent it the answers
    assertThat(TelemetryProxyTest.value(c, "istio_tcp_received_bytes_total", clientSide))
        .isEqualTo((long) connections * REQUEST);
    assertThat(TelemetryProxyTest.value(c, "istio_tcp_sent_bytes_total", clientSide))
        .isEqualTo((long) connections * RESPONSE);
    assertThat(c)
        .doesNotContain("response_code=")
        .contains("# TYPE istio_tcp_sent_bytes_total counter");
    assertThat(counter(c, "envoy_metadata_exchange_alpn_protocol_found")).isEqualTo(connections);
    assertThat(counter(c, "envoy_metadata_exchange_metadata_added")).isEqualTo(connections);

    String s = TelemetryProxyTest.prometheus(server);
    assertThat(TelemetryProxyTest.value(s, "istio_tcp_connections_opened_total", serverSide))
        .isEqualTo(connections);
    assertThat(TelemetryProxyTest.value(s, "istio_tcp_received_bytes_total", serverSide))
        .isEqualTo((long) connections * REQUEST);
    assertThat(TelemetryProxyTest.value(s, "istio_tcp_sent_bytes_total", serverSide))
        .isEqualTo((long) connections * RESPONSE);
    assertThat(counter(s, "envoy_metadata_exchange_alpn_protocol_found")).isEqualTo(connections);
  }

  static long value(Proxy p, String metric, Map<String, String> labels) throws Exception {
    return TelemetryProxyTest.value(TelemetryProxyTest.prometheus(p), metric, labels);
  }

  static long counter(String text, String name) {
    var m =
        java.util.regex.Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? (\\d+)$").matcher(text);
    return m.find() ? Long.parseLong(m.group(2)) : -1;
  }
}
