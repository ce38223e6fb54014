package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two proxies as two Istio sidecars on an HTTP service, the server's listener with an mTLS chain
 * and a plaintext chain (PERMISSIVE), the client with an mTLS cluster and a plaintext one: Istio's
 * standard HTTP metrics carry the SPIFFE principals of the connection on both reporters, and {@code
 * connection_security_policy} {@code mutual_tls} on the server for mTLS calls, {@code none} for
 * plaintext ones (the client reports {@code unknown}, as istio-proxy's outbound side does).
 */
class MutualTlsTelemetryProxyTest {
  static final String CLIENT_IP = "127.0.7.21";
  static final String SERVER_IP = "127.0.7.22";
  static final String CLIENT_ID = "spiffe://cluster.local/ns/weather/sa/frontend";
  static final String SERVER_ID = "spiffe://cluster.local/ns/weather/sa/forecast";
  static final String MTLS = "outbound|3002|v2|forecast.weather.svc.cluster.local";
  static final String PLAIN = "outbound|3002|v1|forecast.weather.svc.cluster.local";

  static TestPki pki;
  static HttpServer app;
  static Proxy client;
  static Proxy server;
  static int outboundPort;

  static String clientBootstrap(TestPki.Issued cert, int serverPort) throws Exception {
    return TelemetryProxyTest.node("frontend-v1", "frontend", "v1")
            .replace(TelemetryProxyTest.CLIENT_IP, CLIENT_IP)
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
          - name: %1$s_15001
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            traffic_direction: OUTBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: outbound_15001
                  route_config:
                    virtual_hosts:
                    - name: forecast
                      domains: ["*"]
                      routes:
                      - match: {prefix: /plain}
                        route: {cluster: "%5$s"}
                      - match: {prefix: /}
                        route: {cluster: "%4$s"}
        """
            .formatted(CLIENT_IP, Ports.free(CLIENT_IP), outboundPort, MTLS, PLAIN)
        + TelemetryProxyTest.filters("stats_outbound")
        + """
          clusters:
          - name: "%1$s"
            type: STATIC
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: outbound_.3002_v2_.forecast.weather.svc.cluster.local
        """
            .formatted(MTLS)
        + TcpTelemetryProxyTest.common(pki, cert, "istio-http/1.1, http/1.1", SERVER_ID).indent(-2)
        + """
            load_assignment:
              cluster_name: forecast
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %2$s, port_value: %3$d}}}}]}]
          - name: "%1$s"
            type: STATIC
            load_assignment:
              cluster_name: forecast
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %2$s, port_value: %3$d}}}}]}]
        """
            .formatted(PLAIN, SERVER_IP, serverPort);
  }

  static String hcm(String cluster) {
    return """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound_3002
                  route_config:
                    virtual_hosts:
                    - name: inbound
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: "%s"}
        """
            .formatted(cluster)
        + TelemetryProxyTest.filters("stats_inbound");
  }

  static String serverBootstrap(TestPki.Issued cert, int port) throws Exception {
    return TelemetryProxyTest.node("forecast-v2", "forecast", "v2")
            .replace(TelemetryProxyTest.SERVER_IP, SERVER_IP)
        + """
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
          - name: virtualInbound
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
        + TcpTelemetryProxyTest.common(pki, cert, "h2, http/1.1", "spiffe://cluster.local/")
        + "      filters:\n"
        + hcm("inbound|3002||")
        + """
            - filter_chain_match: {transport_protocol: raw_buffer}
              filters:
        """
        + hcm("inbound|3002||")
        + """
          clusters:
          - name: "inbound|3002||"
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(SERVER_IP, app.getAddress().getPort());
  }

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki("http telemetry root");
    app = HttpServer.create(new InetSocketAddress(SERVER_IP, 0), 64);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          byte[] out = "forecast".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    app.start();
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
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    if (app != null) {
      app.stop(0);
    }
  }

  static int get(String path) throws Exception {
    return TelemetryProxyTest.http
        .send(
            HttpRequest.newBuilder(URI.create("http://" + CLIENT_IP + ":" + outboundPort + path))
                .header("Host", "forecast.weather:3002")
                .timeout(Duration.ofSeconds(60))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  @Test
  void principalsAndSecurityPolicyFollowTheConnectionOnBothReporters() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(get("/forecast/" + i)).isEqualTo(200);
    }
    for (int i = 0; i < 2; i++) {
      assertThat(get("/plain/" + i)).isEqualTo(200);
    }
    Map<String, String> clientMtls =
        Map.of(
            "reporter", "source",
            "source_workload", "frontend-v1",
            "destination_workload", "forecast-v2",
            "source_principal", CLIENT_ID,
            "destination_principal", SERVER_ID,
            "destination_version", "v2",
            "connection_security_policy", "unknown",
            "response_code", "200");
    Map<String, String> clientPlain =
        Map.of(
            "reporter", "source",
            "destination_workload", "forecast-v2",
            "source_principal", "unknown",
            "destination_principal", "unknown",
            "connection_security_policy", "unknown",
            "response_code", "200");
    Map<String, String> serverMtls =
        Map.of(
            "reporter", "destination",
            "source_workload", "frontend-v1",
            "destination_workload", "forecast-v2",
            "source_principal", CLIENT_ID,
            "destination_principal", SERVER_ID,
            "connection_security_policy", "mutual_tls",
            "response_code", "200");
    Map<String, String> serverPlain =
        Map.of(
            "reporter", "destination",
            "source_workload", "frontend-v1",
            "source_principal", "unknown",
            "destination_principal", "unknown",
            "connection_security_policy", "none",
            "response_code", "200");
    // the server counts a stream as it ends, just before its last write: wait for the last one
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> TcpTelemetryProxyTest.value(server, "istio_requests_total", serverPlain) == 2);
    String c = TelemetryProxyTest.prometheus(client);
    assertThat(TelemetryProxyTest.value(c, "istio_requests_total", clientMtls)).isEqualTo(3);
    assertThat(TelemetryProxyTest.value(c, "istio_requests_total", clientPlain)).isEqualTo(2);
    assertThat(TelemetryProxyTest.value(c, "istio_request_duration_milliseconds_count", clientMtls))
        .isEqualTo(3);
    String s = TelemetryProxyTest.prometheus(server);
    assertThat(TelemetryProxyTest.value(s, "istio_requests_total", serverMtls)).isEqualTo(3);
    assertThat(TelemetryProxyTest.value(s, "istio_requests_total", serverPlain)).isEqualTo(2);
    assertThat(TelemetryProxyTest.value(s, "istio_response_bytes_count", serverMtls)).isEqualTo(3);
  }
}
