package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A proxy exporting spans to OTLP collectors behind TLS clusters, as istiod configures a collector
 * service whose DestinationRule (or auto mTLS) asks for TLS: the collector cluster's {@code
 * transport_socket} carries the proxy's certificate, the CA and the collector's expected SAN. Real
 * TLS receivers in the test require a client certificate: OTLP/gRPC (TLS, ALPN h2) and OTLP/HTTP
 * ({@code https}) both arrive, presenting the cluster's certificate; a cluster expecting another
 * collector identity refuses to send.
 */
class TlsTracingProxyTest {
  static final String IP = "127.0.9.21";
  static final String PROXY_ID = "spiffe://cluster.local/ns/weather/sa/forecast";
  static final String COLLECTOR_ID = "spiffe://cluster.local/ns/istio-system/sa/otel-collector";
  static final String GRPC_CLUSTER = "outbound|4317||otel-collector.istio-system.svc.cluster.local";
  static final String HTTP_CLUSTER = "outbound|4318||otel-collector.istio-system.svc.cluster.local";
  static final String WRONG_CLUSTER = "outbound|4317||impostor.istio-system.svc.cluster.local";

  static TestPki pki;
  static HttpServer app;
  static Server grpcCollector;
  static HttpsServer httpCollector;
  static Proxy proxy;
  static int grpcPort;
  static int httpPort;
  static int wrongPort;
  static final ConcurrentLinkedQueue<ResourceSpans> grpcSpans = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<ResourceSpans> httpSpans = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<String> grpcClients = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<String> httpClients = new ConcurrentLinkedQueue<>();
  static final ConcurrentLinkedQueue<String> grpcAlpn = new ConcurrentLinkedQueue<>();

  static String listener(String name, int port, String provider) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            traffic_direction: INBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  tracing:
                    random_sampling: {value: 100}
                    provider:
                      name: envoy.tracers.opentelemetry
                      typed_config:
                        "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
        %4$s
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: "inbound|8080||"}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """
        .formatted(name, IP, port, provider.indent(16).stripTrailing());
  }

  static String tlsCluster(String name, int port, String expectedSan) throws Exception {
    return """
          - name: "%1$s"
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: otel-collector.istio-system.svc.cluster.local
        """
            .formatted(name)
        + TcpTelemetryProxyTest.common(pki, pki.issue(PROXY_ID), "istio", expectedSan).indent(-2)
        + """
            load_assignment:
              cluster_name: collector
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, port);
  }

  static String bootstrap(int appPort) throws Exception {
    return """
        node: {id: "sidecar~%1$s~forecast-v1.weather~weather.svc.cluster.local", cluster: forecast.weather}
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
        """
            .formatted(IP, Ports.free(IP))
        + listener(
            "grpc",
            grpcPort,
            "grpc_service: {envoy_grpc: {cluster_name: \"" + GRPC_CLUSTER + "\"}}")
        + listener(
            "http",
            httpPort,
            """
            http_service:
              http_uri: {uri: "https://otel-collector.istio-system.svc.cluster.local:4318/v1/traces", cluster: "%s", timeout: 5s}
            """
                .formatted(HTTP_CLUSTER))
        + listener(
            "wrong",
            wrongPort,
            "grpc_service: {envoy_grpc: {cluster_name: \"" + WRONG_CLUSTER + "\"}}")
        + """
          clusters:
          - name: "inbound|8080||"
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, appPort)
        + tlsCluster(GRPC_CLUSTER, grpcCollector.getPort(), COLLECTOR_ID)
        + tlsCluster(HTTP_CLUSTER, httpCollector.getAddress().getPort(), COLLECTOR_ID)
        + tlsCluster(
            WRONG_CLUSTER,
            grpcCollector.getPort(),
            "spiffe://cluster.local/ns/istio-system/sa/somebody-else");
  }

  static String uriSan(X509Certificate c) throws Exception {
    for (List<?> san : c.getSubjectAlternativeNames()) {
      if ((Integer) san.get(0) == 6) {
        return (String) san.get(1);
      }
    }
    return "";
  }

  static SSLContext serverContext(TestPki.Issued id) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "collector", id.key().getPrivate(), new char[0], new Certificate[] {id.cert(), pki.root});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, new char[0]);
    KeyStore roots = KeyStore.getInstance("PKCS12");
    roots.load(null, null);
    roots.setCertificateEntry("root", pki.root);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(roots);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  @BeforeAll
  static void start() throws Exception {
    pki = new TestPki("otlp tls root");
    TestPki.Issued collector = pki.issue(COLLECTOR_ID);
    app = HttpServer.create(new InetSocketAddress(IP, 0), 64);
    app.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    app.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          byte[] out = "app".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    app.start();

    ServerInterceptor whoCalls =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            SSLSession s = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              grpcClients.add(uriSan((X509Certificate) s.getPeerCertificates()[0]));
            } catch (Exception e) {
              grpcClients.add("none: " + e);
            }
            grpcAlpn.add(String.valueOf(call.getAuthority()));
            return next.startCall(call, headers);
          }
        };
    grpcCollector =
        NettyServerBuilder.forAddress(new InetSocketAddress(IP, 0))
            .sslContext(
                GrpcSslContexts.configure(
                        SslContextBuilder.forServer(
                            new ByteArrayInputStream(
                                collector.certPem().getBytes(StandardCharsets.US_ASCII)),
                            new ByteArrayInputStream(
                                collector.keyPem().getBytes(StandardCharsets.US_ASCII))))
                    .trustManager(pki.root)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build())
            .addService(
                ServerInterceptors.intercept(
                    new TraceServiceGrpc.TraceServiceImplBase() {
                      @Override
                      public void export(
                          ExportTraceServiceRequest request,
                          StreamObserver<ExportTraceServiceResponse> response) {
                        grpcSpans.addAll(request.getResourceSpansList());
                        response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                        response.onCompleted();
                      }
                    },
                    whoCalls))
            .build()
            .start();

    httpCollector = HttpsServer.create(new InetSocketAddress(IP, 0), 16);
    SSLContext ssl = serverContext(collector);
    httpCollector.setHttpsConfigurator(
        new HttpsConfigurator(ssl) {
          @Override
          public void configure(HttpsParameters params) {
            var p = ssl.getDefaultSSLParameters();
            p.setNeedClientAuth(true);
            params.setSSLParameters(p);
          }
        });
    httpCollector.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    httpCollector.createContext(
        "/v1/traces",
        ex -> {
          try {
            httpClients.add(
                uriSan(
                    (X509Certificate)
                        ((HttpsExchange) ex).getSSLSession().getPeerCertificates()[0]));
          } catch (Exception e) {
            httpClients.add("none: " + e);
          }
          httpSpans.addAll(
              ExportTraceServiceRequest.parseFrom(ex.getRequestBody().readAllBytes())
                  .getResourceSpansList());
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    httpCollector.start();

    grpcPort = Ports.free(IP);
    httpPort = Ports.free(IP);
    wrongPort = Ports.free(IP);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("tls-tracing.yaml", bootstrap(app.getAddress().getPort())),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (grpcCollector != null) {
      grpcCollector.shutdownNow();
    }
    if (httpCollector != null) {
      httpCollector.stop(0);
    }
    if (app != null) {
      app.stop(0);
    }
  }

  static int get(int port, String requestId) throws Exception {
    return TelemetryProxyTest.http
        .send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/weather"))
                .header("x-request-id", requestId)
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  static boolean has(ConcurrentLinkedQueue<ResourceSpans> q, String requestIdPrefix) {
    return q.stream()
        .flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream())
        .anyMatch(
            s ->
                s.getAttributesList().stream()
                    .anyMatch(
                        kv ->
                            kv.getKey().equals("guid:x-request-id")
                                && kv.getValue().getStringValue().startsWith(requestIdPrefix)));
  }

  @Test
  void otlpOverGrpcReachesAMutualTlsCollectorWithTheClustersCertificate() throws Exception {
    assertThat(get(grpcPort, "a1111111-2222-4333-8444-555555555555")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(15)).until(() -> has(grpcSpans, "a1111111"));
    assertThat(grpcClients).isNotEmpty().allMatch(PROXY_ID::equals);
    // the cluster's sni names the collector (gRPC's authority, hence the TLS server name)
    assertThat(grpcAlpn).contains("otel-collector.istio-system.svc.cluster.local");
  }

  @Test
  void otlpOverHttpsReachesAMutualTlsCollectorWithTheClustersCertificate() throws Exception {
    assertThat(get(httpPort, "b1111111-2222-4333-8444-555555555555")).isEqualTo(200);
    await().atMost(Duration.ofSeconds(15)).until(() -> has(httpSpans, "b1111111"));
    assertThat(httpClients).isNotEmpty().allMatch(PROXY_ID::equals);
  }

  @Test
  void aCollectorWhoseIdentityTheClusterDoesNotExpectGetsNoSpans() throws Exception {
    assertThat(get(wrongPort, "c1111111-2222-4333-8444-555555555555")).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                TcpTelemetryProxyTest.counter(
                        TelemetryProxyTest.prometheus(proxy),
                        "envoy_tracing_opentelemetry_reports_failed")
                    > 0);
    assertThat(has(grpcSpans, "c1111111")).isFalse();
  }
}
