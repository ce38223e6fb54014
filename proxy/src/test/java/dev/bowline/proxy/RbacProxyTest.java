package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's RBAC filters in a real proxy over real sockets: the HTTP filter (enforced and shadow
 * rules, per-route override, 403 {@code RBAC: access denied}, counters) and the network filter on a
 * TCP proxy chain (a denied connection is closed, an allowed one is proxied).
 */
class RbacProxyTest {
  static final String IP = "127.0.7.1";
  static PolicyBackend backend;
  static ServerSocket echo;
  static Proxy proxy;
  static int httpPort;
  static int tcpPort;
  @org.junit.jupiter.api.io.TempDir static java.nio.file.Path logDir;
  static java.nio.file.Path accessLog;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String bootstrap() {
    return """
        node: {id: rbac-test, cluster: test}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound_rbac
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %7$s
                      log_format: {text_format_source: {inline_string: "%%REQ(:PATH)%% %%RESPONSE_CODE%% %%DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_allow_shadow_engine_result)%% %%DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_allow_shadow_effective_policy_id)%% %%RESPONSE_CODE_DETAILS%%\\n"}}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      shadow_rules_stat_prefix: istio_dry_run_allow_
                      shadow_rules:
                        action: DENY
                        policies:
                          shadow-admin:
                            permissions: [{url_path: {path: {prefix: /admin}}}]
                            principals: [{any: true}]
                      rules:
                        action: ALLOW
                        policies:
                          ns[weather]-policy[public]-rule[0]:
                            permissions:
                            - and_rules:
                                rules:
                                - or_rules: {rules: [{header: {name: ":method", string_match: {exact: GET}}}]}
                                - or_rules: {rules: [{url_path: {path: {prefix: /public/}}}]}
                            principals: [{and_ids: {ids: [{any: true}]}}]
                          ns[weather]-policy[alice]-rule[0]:
                            permissions: [{any: true}]
                            principals: [{header: {name: x-user, string_match: {exact: alice}}}]
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
                      - match: {prefix: /open}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.rbac:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
                      - match: {prefix: /}
                        route: {cluster: one}
          - name: tcp
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            # as istiod's inbound chains: the inspector reads first, the TCP proxy comes after
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
            filter_chains:
            - filter_chain_match: {transport_protocol: raw_buffer}
              filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: tcp.
                  rules:
                    action: ALLOW
                    policies:
                      ns[weather]-policy[tcp]-rule[0]:
                        permissions: [{destination_port: %3$d}]
                        principals: [{direct_remote_ip: {address_prefix: 127.0.7.21, prefix_len: 32}}]
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: echo
                  cluster: echo
          clusters:
          - name: one
            type: STATIC
            load_assignment:
              cluster_name: one
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %4$s, port_value: %5$d}}}}]}]
          - name: echo
            type: STATIC
            load_assignment:
              cluster_name: echo
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %1$s, port_value: %6$d}}}}]}]
        """
        .formatted(
            IP, httpPort, tcpPort, backend.ip(), backend.port(), echo.getLocalPort(), accessLog);
  }

  @BeforeAll
  static void start() throws IOException {
    backend = new PolicyBackend("one", "127.0.7.2");
    echo = new ServerSocket(0, 50, InetAddress.getByName(IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                            } catch (IOException e) {
                              // peer gone
                            }
                          });
                } catch (IOException e) {
                  // closed
                }
              }
            });
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    accessLog = logDir.resolve("access.log");
    var bs = new BootstrapLoader().parse("rbac.yaml", bootstrap());
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    backend.close();
    echo.close();
  }

  static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  @Test
  void allowedRequestsReachTheBackendAndOthersGet403() throws Exception {
    long allowed = stat("http.inbound_rbac.rbac.allowed");
    long denied = stat("http.inbound_rbac.rbac.denied");
    int before = backend.requests.get();

    assertThat(send("GET", "/public/a?x=1").statusCode()).isEqualTo(200);
    assertThat(send("DELETE", "/private", "x-user", "alice").statusCode()).isEqualTo(200);
    var post = send("POST", "/public/a");
    assertThat(post.statusCode()).isEqualTo(403);
    assertThat(post.body()).isEqualTo("RBAC: access denied");
    var bob = send("GET", "/private", "x-user", "bob");
    assertThat(bob.statusCode()).isEqualTo(403);
    // Envoy's response code details name the reason (no ALLOW policy matched)
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(java.nio.file.Files.readAllLines(accessLog))
                    .anyMatch(
                        l ->
                            l.startsWith("/private 403 ")
                                && l.endsWith(" rbac_access_denied_matched_policy[none]")));

    assertThat(backend.requests.get() - before).isEqualTo(2);
    assertThat(stat("http.inbound_rbac.rbac.allowed") - allowed).isEqualTo(2);
    assertThat(stat("http.inbound_rbac.rbac.denied") - denied).isEqualTo(2);
  }

  @Test
  void shadowRulesOnlyCountUnderTheirPrefix() throws Exception {
    long shadowDenied = stat("http.inbound_rbac.rbac.istio_dry_run_allow_shadow_denied");
    long shadowAllowed = stat("http.inbound_rbac.rbac.istio_dry_run_allow_shadow_allowed");
    // the shadow DENY matches /admin, but only the enforced rules decide (alice may)
    assertThat(send("GET", "/admin", "x-user", "alice").statusCode()).isEqualTo(200);
    assertThat(send("GET", "/public/b").statusCode()).isEqualTo(200);
    assertThat(stat("http.inbound_rbac.rbac.istio_dry_run_allow_shadow_denied") - shadowDenied)
        .isEqualTo(1);
    assertThat(stat("http.inbound_rbac.rbac.istio_dry_run_allow_shadow_allowed") - shadowAllowed)
        .isEqualTo(1);
    // the shadow result is dynamic metadata the access log can print, as Envoy's
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(java.nio.file.Files.readAllLines(accessLog))
                    .contains(
                        "/admin 200 denied shadow-admin via_upstream",
                        "/public/b 200 allowed - via_upstream"));
  }

  @Test
  void aRouteWithAnEmptyPerRouteConfigIsNotChecked() throws Exception {
    assertThat(send("POST", "/open/x").statusCode()).isEqualTo(200);
  }

  @Test
  void networkRbacClosesDeniedConnectionsAndProxiesAllowedOnes() throws Exception {
    long denied = stat("tcp.rbac.denied");
    long allowed = stat("tcp.rbac.allowed");
    assertThat(exchange("127.0.7.21", "hello")).isEqualTo("hello");
    assertThat(exchange("127.0.7.20", "hello")).isEmpty(); // closed, nothing echoed
    assertThat(stat("tcp.rbac.denied") - denied).isEqualTo(1);
    assertThat(stat("tcp.rbac.allowed") - allowed).isEqualTo(1);
  }

  /** Sends {@code text} from {@code fromIp} and reads until the proxy closes or echoes it all. */
  static String exchange(String fromIp, String text) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(fromIp, 0));
      s.connect(new InetSocketAddress(IP, tcpPort), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[text.length()];
      int n = 0;
      try {
        while (n < buf.length) {
          int r = in.read(buf, n, buf.length - n);
          if (r < 0) {
            break;
          }
          n += r;
        }
      } catch (java.net.SocketException e) {
        // reset by the proxy: denied
      }
      return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
  }
}
