package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's ext_authz HTTP filter in a real proxy over real sockets, with a real HTTP authorizer and
 * a real gRPC {@code envoy.service.auth.v3.Authorization} server (the only stand-ins: the external
 * systems): istiod's CUSTOM shape (shadow RBAC under {@code istio_ext_authz_}, ext_authz enabled by
 * its effective policy id), allow with headers added upstream and to the client, deny with the
 * authorizer's status, body and headers, an authorizer that is down with and without
 * failure_mode_allow, counters and the {@code UAEX} response flag.
 */
class ExtAuthzProxyTest {
  static final String IP = "127.0.31.1";
  static final String BACKEND_IP = "127.0.31.2";
  static final String AUTHZ_IP = "127.0.31.3";

  static HttpServer backend;
  static HttpServer httpAuthz;
  static Server grpcAuthz;
  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static Proxy proxy;
  static int httpPort;
  static int grpcPort;
  static int closedPort;
  static int openPort;
  static int deadPort;
  static int tcpPort;
  static java.net.ServerSocket echo;
  @org.junit.jupiter.api.io.TempDir static java.nio.file.Path logDir;
  static java.nio.file.Path accessLog;
  static final Map<String, String> lastCheckHeaders = new ConcurrentHashMap<>();
  static final AtomicReference<String> lastCheckPath = new AtomicReference<>("");
  static final AtomicReference<CheckRequest> lastGrpcCheck = new AtomicReference<>();
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /** One listener of istiod's CUSTOM shape whose ext_authz filter is {@code extAuthz}. */
  static String listener(String name, int port, String extAuthz) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %4$s
                      log_format: {text_format_source: {inline_string: "%1$s %%REQ(:PATH)%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%%\\n"}}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      shadow_rules_stat_prefix: istio_ext_authz_
                      shadow_rules:
                        action: DENY
                        policies:
                          istio-ext-authz-ns[weather]-policy[ext]-rule[0]:
                            permissions: [{url_path: {path: {prefix: /checked}}}]
                            principals: [{any: true}]
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      transport_api_version: V3
                      filter_enabled_metadata:
                        filter: envoy.filters.http.rbac
                        path: [{key: istio_ext_authz_shadow_effective_policy_id}]
                        value: {string_match: {prefix: istio-ext-authz}}
        %5$s
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend}}]
        """
        .formatted(name, IP, port, accessLog, extAuthz.indent(14).stripTrailing());
  }

  static String httpService(String cluster) {
    return """
        http_service:
          server_uri: {uri: "http://ext-authz", cluster: %s, timeout: 2s}
          path_prefix: /check
          authorization_request:
            allowed_headers: {patterns: [{exact: x-deny, ignore_case: true}, {prefix: x-ext-, ignore_case: true}]}
            headers_to_add: [{key: x-added, value: "by-proxy"}]
          authorization_response:
            allowed_upstream_headers: {patterns: [{exact: x-user, ignore_case: true}]}
            allowed_client_headers: {patterns: [{exact: x-reason, ignore_case: true}]}
            allowed_client_headers_on_success: {patterns: [{exact: x-seen, ignore_case: true}]}
        """
        .formatted(cluster);
  }

  static String cluster(String name, String ip, int port, boolean h2) {
    return """
          - name: %s
            type: STATIC
            connect_timeout: 1s
        %s    load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
        .formatted(
            name,
            h2
                ? """
                    typed_extension_protocol_options:
                      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                        explicit_http_config: {http2_protocol_options: {}}
                """
                : "",
            name,
            ip,
            port);
  }

  /** istiod's CUSTOM pair on a TCP chain: network RBAC shadow rules, then network ext_authz. */
  static String tcpListener() {
    return """
          - name: tcp_authz
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: tcp.
                  shadow_rules_stat_prefix: istio_ext_authz_
                  shadow_rules:
                    action: DENY
                    policies:
                      istio-ext-authz-ns[weather]-policy[ext]-rule[0]:
                        permissions: [{any: true}]
                        principals: [{not_id: {direct_remote_ip: {address_prefix: 127.0.31.8, prefix_len: 32}}}]
              - name: envoy.filters.network.ext_authz
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz
                  stat_prefix: tcp.
                  transport_api_version: V3
                  grpc_service: {envoy_grpc: {cluster_name: authz-grpc, authority: outbound_.9000_._.ext-authz}, timeout: 2s}
                  filter_enabled_metadata:
                    filter: envoy.filters.network.rbac
                    path: [{key: istio_ext_authz_shadow_effective_policy_id}]
                    value: {string_match: {prefix: istio-ext-authz}}
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: echo
                  cluster: echo
        """
        .formatted(IP, tcpPort);
  }

  static String bootstrap() {
    return "node: {id: ext-authz-test, cluster: test}\nstatic_resources:\n  listeners:\n"
        + listener("http_authz", httpPort, httpService("authz-http"))
        + listener(
            "grpc_authz",
            grpcPort,
            """
            grpc_service: {envoy_grpc: {cluster_name: authz-grpc, authority: outbound_.9000_._.ext-authz}, timeout: 2s}
            """)
        + listener(
            "down_closed", closedPort, httpService("authz-dead") + "status_on_error: {code: 503}\n")
        + listener("down_open", openPort, httpService("authz-dead") + "failure_mode_allow: true\n")
        + tcpListener()
        + "  clusters:\n"
        + cluster("backend", BACKEND_IP, backend.getAddress().getPort(), false)
        + cluster("authz-http", AUTHZ_IP, httpAuthz.getAddress().getPort(), false)
        + cluster("authz-grpc", AUTHZ_IP, grpcAuthz.getPort(), true)
        + cluster("authz-dead", AUTHZ_IP, deadPort, false)
        + cluster("echo", BACKEND_IP, echo.getLocalPort(), false);
  }

  @BeforeAll
  static void start() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          // echoes the request headers it got, so the test sees what went upstream
          StringBuilder sb = new StringBuilder("backend " + ex.getRequestURI() + "\n");
          ex.getRequestHeaders()
              .forEach((k, v) -> sb.append(k.toLowerCase()).append('=').append(v).append('\n'));
          byte[] out = sb.toString().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();

    httpAuthz = HttpServer.create(new InetSocketAddress(AUTHZ_IP, 0), 64);
    httpAuthz.setExecutor(executor);
    httpAuthz.createContext(
        "/",
        ex -> {
          lastCheckPath.set(ex.getRequestMethod() + " " + ex.getRequestURI());
          lastCheckHeaders.clear();
          ex.getRequestHeaders().forEach((k, v) -> lastCheckHeaders.put(k.toLowerCase(), v.get(0)));
          boolean deny = "yes".equals(ex.getRequestHeaders().getFirst("x-deny"));
          ex.getResponseHeaders().set("x-reason", deny ? "test-says-no" : "fine");
          ex.getResponseHeaders().set("x-internal", "hidden");
          ex.getResponseHeaders().set("x-user", "alice");
          ex.getResponseHeaders().set("x-seen", "checked");
          byte[] out =
              (deny ? "denied by the test authorizer" : "").getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(deny ? 401 : 200, out.length == 0 ? -1 : out.length);
          if (out.length > 0) {
            ex.getResponseBody().write(out);
          }
          ex.close();
        });
    httpAuthz.start();

    grpcAuthz =
        NettyServerBuilder.forAddress(new InetSocketAddress(AUTHZ_IP, 0))
            .addService(
                new AuthorizationGrpc.AuthorizationImplBase() {
                  @Override
                  public void check(CheckRequest req, StreamObserver<CheckResponse> out) {
                    lastGrpcCheck.set(req);
                    var headers = req.getAttributes().getRequest().getHttp().getHeadersMap();
                    String source =
                        req.getAttributes()
                            .getSource()
                            .getAddress()
                            .getSocketAddress()
                            .getAddress();
                    CheckResponse.Builder r = CheckResponse.newBuilder();
                    if ("yes".equals(headers.get("x-deny"))
                        || (!req.getAttributes().getRequest().hasHttp()
                            && source.equals("127.0.31.9"))) {
                      r.setStatus(com.google.rpc.Status.newBuilder().setCode(7))
                          .setDeniedResponse(
                              DeniedHttpResponse.newBuilder()
                                  .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Forbidden))
                                  .setBody("grpc authorizer says no")
                                  .addHeaders(header("x-reason", "grpc-no")));
                    } else {
                      r.setStatus(com.google.rpc.Status.newBuilder().setCode(0))
                          .setOkResponse(
                              OkHttpResponse.newBuilder()
                                  .addHeaders(header("x-user", "grpc-alice"))
                                  .addResponseHeadersToAdd(header("x-seen", "grpc")));
                    }
                    out.onNext(r.build());
                    out.onCompleted();
                  }
                })
            .build()
            .start();

    echo = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName(BACKEND_IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  java.net.Socket sock = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (sock) {
                              sock.getInputStream().transferTo(sock.getOutputStream());
                            } catch (IOException e) {
                              // peer gone
                            }
                          });
                } catch (IOException e) {
                  // closed
                }
              }
            });
    tcpPort = Ports.free(IP);
    httpPort = Ports.free(IP);
    grpcPort = Ports.free(IP);
    closedPort = Ports.free(IP);
    openPort = Ports.free(IP);
    deadPort = Ports.free(AUTHZ_IP); // nothing listens there
    accessLog = logDir.resolve("access.log");
    var bs = new BootstrapLoader().parse("ext-authz.yaml", bootstrap());
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  static HeaderValueOption header(String k, String v) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(k).setValue(v))
        .build();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.stop(0);
    httpAuthz.stop(0);
    grpcAuthz.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    executor.close();
    echo.close();
  }

  static HttpResponse<String> send(int port, String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  static String log() throws IOException {
    return java.nio.file.Files.exists(accessLog) ? java.nio.file.Files.readString(accessLog) : "";
  }

  @Test
  void httpAuthorizerAllowsWithHeadersUpstreamAndToTheClient() throws Exception {
    long ok = stat("http.http_authz.ext_authz.ok");
    var r = send(httpPort, "/checked/a?q=1", "x-deny", "no", "x-ext-id", "7", "x-other", "z");
    assertThat(r.statusCode()).isEqualTo(200);
    // the check: same method, path under path_prefix, allowed headers and the added one only
    assertThat(lastCheckPath.get()).isEqualTo("GET /check/checked/a?q=1");
    assertThat(lastCheckHeaders)
        .containsEntry("x-deny", "no")
        .containsEntry("x-ext-id", "7")
        .containsEntry("x-added", "by-proxy")
        .containsKey("host")
        .doesNotContainKey("x-other");
    // upstream got the allowed authorizer header, not the others
    assertThat(r.body()).startsWith("backend /checked/a?q=1").contains("x-user=[alice]");
    assertThat(r.body()).doesNotContain("x-internal").doesNotContain("x-reason");
    assertThat(r.headers().firstValue("x-seen")).hasValue("checked");
    assertThat(stat("http.http_authz.ext_authz.ok") - ok).isEqualTo(1);
  }

  @Test
  void httpAuthorizerDenialReachesTheClientWithItsStatusBodyAndHeaders() throws Exception {
    long denied = stat("http.http_authz.ext_authz.denied");
    var r = send(httpPort, "/checked/b", "x-deny", "yes");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).isEqualTo("denied by the test authorizer");
    assertThat(r.headers().firstValue("x-reason")).hasValue("test-says-no");
    assertThat(r.headers().firstValue("x-internal")).isEmpty();
    assertThat(stat("http.http_authz.ext_authz.denied") - denied).isEqualTo(1);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(log()).contains("http_authz /checked/b 401 UAEX"));
  }

  @Test
  void requestsTheCustomRulesDoNotMatchAreNotChecked() throws Exception {
    long disabled = stat("http.http_authz.ext_authz.disabled");
    lastCheckPath.set("");
    var r = send(httpPort, "/free", "x-deny", "yes");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("backend /free");
    assertThat(lastCheckPath.get()).isEmpty();
    assertThat(stat("http.http_authz.ext_authz.disabled") - disabled).isEqualTo(1);
  }

  @Test
  void grpcAuthorizerAllowsAndDenies() throws Exception {
    var ok = send(grpcPort, "/checked/g?x=1", "x-deny", "no", "x-multi", "a");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("x-user=[grpc-alice]");
    assertThat(ok.headers().firstValue("x-seen")).hasValue("grpc");
    var http = lastGrpcCheck.get().getAttributes().getRequest().getHttp();
    assertThat(http.getMethod()).isEqualTo("GET");
    assertThat(http.getPath()).isEqualTo("/checked/g?x=1");
    assertThat(http.getQuery()).isEqualTo("x=1");
    assertThat(http.getHeadersMap())
        .containsEntry(":path", "/checked/g?x=1")
        .containsEntry("x-multi", "a");
    assertThat(
            lastGrpcCheck
                .get()
                .getAttributes()
                .getSource()
                .getAddress()
                .getSocketAddress()
                .getAddress())
        .isEqualTo("127.0.0.1");

    long denied = stat("http.grpc_authz.ext_authz.denied");
    var no = send(grpcPort, "/checked/g", "x-deny", "yes");
    assertThat(no.statusCode()).isEqualTo(403);
    assertThat(no.body()).isEqualTo("grpc authorizer says no");
    assertThat(no.headers().firstValue("x-reason")).hasValue("grpc-no");
    assertThat(stat("http.grpc_authz.ext_authz.denied") - denied).isEqualTo(1);
  }

  @Test
  void authorizerDownFailsClosedWithStatusOnErrorOrOpenWithFailureModeAllow() throws Exception {
    long errors = stat("http.down_closed.ext_authz.error");
    var closed = send(closedPort, "/checked/c");
    assertThat(closed.statusCode()).isEqualTo(503);
    assertThat(stat("http.down_closed.ext_authz.error") - errors).isEqualTo(1);

    long allowed = stat("http.down_open.ext_authz.failure_mode_allowed");
    var open = send(openPort, "/checked/o");
    assertThat(open.statusCode()).isEqualTo(200);
    assertThat(open.body()).startsWith("backend /checked/o");
    assertThat(stat("http.down_open.ext_authz.failure_mode_allowed") - allowed).isEqualTo(1);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(log()).contains("down_closed /checked/c 503 UAEX"));
  }

  /** One line through the TCP listener from {@code source}; what comes back (null: closed). */
  static @org.jspecify.annotations.Nullable String echoFrom(String source) throws IOException {
    try (var sock = new java.net.Socket()) {
      sock.bind(new InetSocketAddress(source, 0));
      sock.connect(new InetSocketAddress(IP, tcpPort), 5000);
      sock.setSoTimeout(5000);
      sock.getOutputStream().write("ping\n".getBytes(StandardCharsets.UTF_8));
      sock.getOutputStream().flush();
      byte[] buf = new byte[5];
      int n = sock.getInputStream().readNBytes(buf, 0, 5);
      return n == 5 ? new String(buf, StandardCharsets.UTF_8) : null;
    } catch (java.net.SocketException e) {
      return null; // reset by the proxy
    }
  }

  @Test
  void networkExtAuthzChecksMatchedConnectionsOverGrpc() throws Exception {
    long ok = stat("tcp.ext_authz.ok");
    long denied = stat("tcp.ext_authz.denied");
    long disabled = stat("tcp.ext_authz.disabled");
    assertThat(echoFrom("127.0.31.7")).isEqualTo("ping\n");
    assertThat(stat("tcp.ext_authz.ok") - ok).isEqualTo(1);
    assertThat(echoFrom("127.0.31.9")).isNull();
    assertThat(stat("tcp.ext_authz.denied") - denied).isEqualTo(1);
    // the CUSTOM shadow rule excludes 127.0.31.8: not sent to the authorizer at all
    assertThat(echoFrom("127.0.31.8")).isEqualTo("ping\n");
    assertThat(stat("tcp.ext_authz.disabled") - disabled).isEqualTo(1);
  }
}
