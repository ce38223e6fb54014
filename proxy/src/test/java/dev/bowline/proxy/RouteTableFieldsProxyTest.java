package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Route table fields over real sockets: {@code ignore_path_parameters_in_path_matching} (routes
 * match the path cut at its first {@code ;}, as Envoy's {@code sanitizePathBeforePathMatching}) and
 * a virtual host's {@code metadata}, which access logs print with Envoy's {@code
 * %METADATA(VIRTUAL_HOST:...)%}.
 */
class RouteTableFieldsProxyTest {
  static final String IP = "127.0.7.242";
  static final String BACKEND_IP = "127.0.7.244";
  static final java.util.Queue<String> firstTries =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  static java.util.concurrent.ExecutorService executor;
  static com.sun.net.httpserver.HttpServer backend;
  static int retryPort;

  static Proxy proxy;
  static int port;
  static int faultPort;
  static Path log;

  @BeforeAll
  static void start() throws IOException {
    log = Files.createTempDirectory("route-table-fields").resolve("access.log");
    port = Ports.free(IP);
    faultPort = Ports.free(IP);
    retryPort = Ports.free(IP);
    executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    backend =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          var h = ex.getRequestHeaders();
          String attempt = h.getFirst("x-envoy-attempt-count");
          String flag = h.getFirst("x-envoy-is-timeout-retry");
          int status = 200;
          if ("1".equals(attempt)) {
            firstTries.add(ex.getRequestURI().getPath() + " " + flag);
            if (ex.getRequestURI().getPath().startsWith("/timeout")) {
              try {
                Thread.sleep(2_000); // past the per-try timeout
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            } else {
              status = 503;
            }
          }
          byte[] b =
              ("attempt=" + attempt + " timeout-retry=" + flag).getBytes(StandardCharsets.UTF_8);
          try {
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
          } catch (IOException gone) {
            // the proxy gave up on this try
          }
          ex.close();
        });
    backend.start();
    String yaml =
        """
        node: {id: route-table-fields-test, cluster: test}
        static_resources:
          listeners:
          - name: l
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: l
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %3$s
                      log_format: {text_format_source: {inline_string: "%%REQ(:PATH)%% %%METADATA(VIRTUAL_HOST:acme:team)%% %%METADATA(VIRTUAL_HOST:acme)%% %%METADATA(VIRTUAL_HOST:other)%%\\n"}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: p
                    ignore_path_parameters_in_path_matching: true
                    virtual_hosts:
                    - name: p
                      domains: ["*"]
                      metadata: {filter_metadata: {acme: {team: payments}}}
                      routes:
                      - match: {path: /exact}
                        direct_response: {status: 200, body: {inline_string: exact}}
                      - match: {prefix: /}
                        direct_response: {status: 404, body: {inline_string: none}}
          - name: f
            address: {socket_address: {address: %1$s, port_value: %4$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: f
                  http_filters:
                  - name: envoy.filters.http.fault
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: f
                    typed_per_filter_config:
                      envoy.filters.http.fault:
                        "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                        abort: {http_status: 418, percentage: {numerator: 100}}
                    virtual_hosts:
                    - name: own
                      domains: ["own.example"]
                      typed_per_filter_config:
                        envoy.filters.http.fault:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                          abort: {http_status: 429, percentage: {numerator: 100}}
                      routes:
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: own}}
                    - name: f
                      domains: ["*"]
                      routes:
                      - match: {prefix: /route}
                        direct_response: {status: 200, body: {inline_string: route}}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {http_status: 503, percentage: {numerator: 100}}
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: table}}
          - name: r
            address: {socket_address: {address: %1$s, port_value: %5$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: r
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: r
                    virtual_hosts:
                    - name: r
                      domains: ["*"]
                      include_request_attempt_count: true
                      include_is_timeout_retry_header: true
                      routes:
                      - match: {prefix: /}
                        route:
                          cluster: b
                          retry_policy: {retry_on: "5xx,gateway-error,reset", num_retries: 1, per_try_timeout: 0.3s}
          clusters:
          - name: b
            type: STATIC
            load_assignment:
              cluster_name: b
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %6$s, port_value: %7$d}}}}]}]
        """
            .formatted(
                IP, port, log, faultPort, retryPort, BACKEND_IP, backend.getAddress().getPort());
    var bs = new BootstrapLoader().parse("route-table-fields.yaml", yaml);
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.shutdownNow();
  }

  static int get(String path) throws Exception {
    return get(port, "p.example", path);
  }

  static String body(int port, String path) throws Exception {
    try (var s = new java.net.Socket(IP, port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: r.example\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return all.substring(all.indexOf("\r\n\r\n") + 4);
    }
  }

  static int get(int port, String host, String path) throws Exception {
    try (var s = new java.net.Socket(IP, port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(all.split(" ")[1]);
    }
  }

  @Test
  void ignorePathParametersInPathMatchingMatchesThePathWithoutThem() throws Exception {
    assertThat(get("/exact;jsessionid=1")).isEqualTo(200);
    assertThat(get("/exact;a=1?q=2")).isEqualTo(200);
    assertThat(get("/exactly")).isEqualTo(404);
  }

  @Test
  void accessLogsPrintTheVirtualHostsMetadata() throws Exception {
    assertThat(get("/meta")).isEqualTo(404);
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(Files.exists(log) ? Files.readString(log) : "")
                    .contains("/meta payments {\"team\":\"payments\"} -\n"));
  }

  @Test
  void theTablesTypedPerFilterConfigAppliesWhereNeitherRouteNorVirtualHostHasOne()
      throws Exception {
    // Envoy's most specific first: route, virtual host, then the route configuration
    assertThat(get(faultPort, "any.example", "/x")).isEqualTo(418);
    assertThat(get(faultPort, "own.example", "/x")).isEqualTo(429);
    assertThat(get(faultPort, "any.example", "/route")).isEqualTo(503);
  }

  @Test
  void eachRetrySaysWhetherAPerTryTimeoutCausedIt() throws Exception {
    assertThat(body(retryPort, "/timeout")).isEqualTo("attempt=2 timeout-retry=true");
    assertThat(body(retryPort, "/fail")).isEqualTo("attempt=2 timeout-retry=false");
    // the first try carries none
    assertThat(firstTries).contains("/timeout null", "/fail null");
  }
}
