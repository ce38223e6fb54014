package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.SocketProxy.Reply;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Route configuration options Envoy acts on, over real sockets: the Host rewrites ({@code
 * host_rewrite_header}, {@code host_rewrite_path_regex}, {@code append_x_forwarded_host}), {@code
 * cluster_not_found_response_code}, {@code ignore_port_in_host_matching}, {@code
 * most_specific_header_mutations_wins}, {@code max_direct_response_body_size_bytes}, {@code
 * require_tls} and {@code include_attempt_count_in_response}. Two listeners share the virtual
 * hosts: {@code tuned} with the table options set, {@code plain} with Envoy's defaults.
 */
class RouteOptionsProxyTest {
  static final String IP = "127.0.7.70";
  static final String BACKEND_IP = "127.0.7.71";
  static final String BIG = "b".repeat(5000); // over Envoy's 4 KiB default body limit
  static HttpServer backend;
  static ExecutorService executor;
  static Proxy proxy;
  static int tunedPort;
  static int plainPort;
  static java.nio.file.Path logDir;

  /** The virtual hosts both tables have; {@code body} is the /big direct response's. */
  static String hosts(String body) {
    return """
                    virtual_hosts:
                    - name: tls-all
                      domains: ["secure.example"]
                      require_tls: ALL
                      routes: [{match: {prefix: /}, route: {cluster: echo}}]
                    - name: tls-external
                      domains: ["ext.example"]
                      require_tls: EXTERNAL_ONLY
                      routes: [{match: {prefix: /}, route: {cluster: echo}}]
                    - name: ported
                      domains: ["port.example:8080"]
                      routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: ported}}}]
                    - name: portless
                      domains: ["port.example"]
                      routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: portless}}}]
                    - name: any
                      domains: ["*"]
                      include_attempt_count_in_response: true
                      request_headers_to_add:
                      - {header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
                      response_headers_to_add:
                      - {header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
                      routes:
                      - match: {prefix: /hdr}
                        route: {cluster: echo, host_rewrite_header: x-host, append_x_forwarded_host: true}
                        request_headers_to_add:
                        - {header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
                        response_headers_to_add:
                        - {header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
                      - match: {prefix: /rx/}
                        route:
                          cluster: echo
                          prefix_rewrite: /moved/
                          host_rewrite_path_regex: {pattern: {regex: "^/rx/([a-z]+)/.*$"}, substitution: '\\1.svc'}
                      - match: {prefix: /lit}
                        route: {cluster: echo, host_rewrite_literal: lit.example, append_x_forwarded_host: true}
                      - match: {prefix: /gone404}
                        route: {cluster: nowhere, cluster_not_found_response_code: NOT_FOUND}
                      - match: {prefix: /gone500}
                        route: {cluster: nowhere, cluster_not_found_response_code: INTERNAL_SERVER_ERROR}
                      - match: {prefix: /gone}
                        route: {cluster: nowhere}
                      - match: {prefix: /meta}
                        name: meta
                        route: {cluster: echo}
                        metadata:
                          filter_metadata:
                            istio: {config: /apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews}
                      - match: {prefix: /big}
                        direct_response: {status: 200, body: {inline_string: "%s"}}
                      - match: {prefix: /}
                        route: {cluster: echo}
        """
        .formatted(body);
  }

  static String listener(String name, int port, String tableOptions, String body) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %6$s
                      log_format: {text_format_source: {inline_string: "%%REQ(:PATH)%% %%METADATA(ROUTE:istio:config)%% %%METADATA(ROUTE:istio)%%\\n"}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: %1$s
                    request_headers_to_add:
                    - {header: {key: x-level, value: table}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
                    response_headers_to_add:
                    - {header: {key: x-level, value: table}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
        %4$s%5$s"""
        .formatted(name, IP, port, tableOptions, hosts(body), logDir.resolve(name + ".log"));
  }

  @BeforeAll
  static void start() throws IOException {
    logDir = java.nio.file.Files.createTempDirectory("route-options");
    executor = Executors.newVirtualThreadPerTaskExecutor();
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          var h = ex.getRequestHeaders();
          String out =
              "uri="
                  + ex.getRequestURI()
                  + "\nhost="
                  + h.getFirst("Host")
                  + "\nxfh="
                  + h.getFirst("X-Forwarded-Host")
                  + "\nlevel="
                  + h.getFirst("X-Level");
          byte[] b = out.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    backend.start();
    tunedPort = Ports.free(IP);
    plainPort = Ports.free(IP);
    String tuned =
        """
                    ignore_port_in_host_matching: true
                    most_specific_header_mutations_wins: true
                    max_direct_response_body_size_bytes: 8192
        """;
    String yaml =
        """
        node: {id: route-options-test, cluster: test}
        static_resources:
          listeners:
        %s%s
          clusters:
          - name: echo
            type: STATIC
            load_assignment:
              cluster_name: echo
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(
                listener("tuned", tunedPort, tuned, BIG),
                listener("plain", plainPort, "", "small"),
                BACKEND_IP,
                backend.getAddress().getPort());
    var bs = new BootstrapLoader().parse("route-options.yaml", yaml);
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.shutdownNow();
  }

  /** One HTTP/1.1 request on its own connection; {@code headers} are extra {@code name, value}. */
  static Reply get(int port, String host, String path, String... headers) throws IOException {
    return SocketProxy.request(IP, port, host, path, headers);
  }

  @Test
  void hostRewriteHeaderTakesTheHeadersValueAndAppendsTheOriginalHostToXForwardedHost()
      throws Exception {
    Reply r = get(plainPort, "front.example", "/hdr", "x-host", "from-header.example");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.echoed("host")).isEqualTo("from-header.example");
    assertThat(r.echoed("xfh")).isEqualTo("front.example");
    // an x-forwarded-host already there gets the original Host appended
    r = get(plainPort, "front.example", "/hdr", "x-host", "h.example", "x-forwarded-host", "a.ex");
    assertThat(r.echoed("xfh")).isEqualTo("a.ex,front.example");
    // ...unless it is already its last value
    r =
        get(
            plainPort,
            "front.example",
            "/hdr",
            "x-host",
            "h.example",
            "x-forwarded-host",
            "front.example");
    assertThat(r.echoed("xfh")).isEqualTo("front.example");
    // without the header (or empty) the Host stays and nothing is appended
    r = get(plainPort, "front.example", "/hdr");
    assertThat(r.echoed("host")).isEqualTo("front.example");
    assertThat(r.echoed("xfh")).isEqualTo("null");
  }

  @Test
  void hostRewritePathRegexUsesThePathAsItCameBeforeThePrefixRewrite() throws Exception {
    Reply r = get(plainPort, "front.example", "/rx/reviews/v1?q=1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.echoed("host")).isEqualTo("reviews.svc");
    assertThat(r.echoed("uri")).isEqualTo("/moved/reviews/v1?q=1");
    assertThat(r.echoed("xfh")).isEqualTo("null"); // append_x_forwarded_host not set
  }

  @Test
  void appendXForwardedHostAppliesToTheLiteralRewrite() throws Exception {
    Reply r = get(plainPort, "front.example:81", "/lit");
    assertThat(r.echoed("host")).isEqualTo("lit.example");
    assertThat(r.echoed("xfh")).isEqualTo("front.example:81");
  }

  @Test
  void clusterNotFoundResponseCodeIsTheRoutesAndDefaultsTo503() throws Exception {
    assertThat(get(plainPort, "front.example", "/gone404").status()).isEqualTo(404);
    assertThat(get(plainPort, "front.example", "/gone500").status()).isEqualTo(500);
    assertThat(get(plainPort, "front.example", "/gone").status()).isEqualTo(503);
  }

  @Test
  void ignorePortInHostMatchingLooksUpTheHostWithoutItsPort() throws Exception {
    // Envoy's default: the authority as it came, so the domain written with the port matches
    assertThat(get(plainPort, "port.example:8080", "/").body()).isEqualTo("ported");
    assertThat(get(plainPort, "port.example", "/").body()).isEqualTo("portless");
    // ignore_port_in_host_matching: the port is left out first
    assertThat(get(tunedPort, "port.example:8080", "/").body()).isEqualTo("portless");
    assertThat(get(tunedPort, "port.example", "/").body()).isEqualTo("portless");
  }

  @Test
  void mostSpecificHeaderMutationsWinsReversesWhichLevelsValueStays() throws Exception {
    Reply plain = get(plainPort, "front.example", "/hdr");
    assertThat(plain.echoed("level")).isEqualTo("table");
    assertThat(plain.headers()).containsEntry("x-level", "table");
    Reply tuned = get(tunedPort, "front.example", "/hdr");
    assertThat(tuned.echoed("level")).isEqualTo("route");
    assertThat(tuned.headers()).containsEntry("x-level", "route");
    // a route without mutations of its own: the virtual host's is the most specific
    assertThat(get(tunedPort, "front.example", "/").echoed("level")).isEqualTo("vhost");
  }

  @Test
  void maxDirectResponseBodySizeBytesAllowsALongerBody() throws Exception {
    Reply r = get(tunedPort, "front.example", "/big");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(BIG);
  }

  @Test
  void requireTlsRedirectsPlainRequestsToHttpsWith301() throws Exception {
    Reply r = get(plainPort, "secure.example", "/a/b?c=d");
    assertThat(r.status()).isEqualTo(301);
    assertThat(r.headers()).containsEntry("location", "https://secure.example/a/b?c=d");
    // ALL: an internal request too (one x-forwarded-for address in internal_address_config)
    r = get(plainPort, "secure.example", "/a", "x-forwarded-for", "10.0.0.1");
    assertThat(r.status()).isEqualTo(301);
    // EXTERNAL_ONLY: an external one is redirected (saying it is internal does not make it so),
    // an internal one goes through
    r = get(plainPort, "ext.example", "/x");
    assertThat(r.status()).isEqualTo(301);
    assertThat(r.headers()).containsEntry("location", "https://ext.example/x");
    r = get(plainPort, "ext.example", "/x", "x-envoy-internal", "true");
    assertThat(r.status()).isEqualTo(301);
    r = get(plainPort, "ext.example", "/x", "x-forwarded-for", "10.0.0.1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.echoed("host")).isEqualTo("ext.example");
    // a request the connection manager keeps as https (a trusted hop said so) is not redirected
    r = get(plainPort, "secure.example", "/a", "x-forwarded-proto", "https");
    assertThat(r.status()).isEqualTo(200);
  }

  @Test
  void includeAttemptCountInResponseSetsTheHeaderOnTheResponse() throws Exception {
    Reply r = get(plainPort, "front.example", "/");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers()).containsEntry("x-envoy-attempt-count", "1");
    // a virtual host without it: not set
    r = get(plainPort, "ext.example", "/x", "x-forwarded-for", "10.0.0.1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers()).doesNotContainKey("x-envoy-attempt-count");
  }

  @Test
  void routeMetadataIsWhatTheAccessLogsMetadataCommandPrints() throws Exception {
    assertThat(get(plainPort, "front.example", "/meta").status()).isEqualTo(200);
    assertThat(get(plainPort, "front.example", "/after-meta").status()).isEqualTo(200);
    String config = "/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews";
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(java.nio.file.Files.readAllLines(logDir.resolve("plain.log")))
                    .contains(
                        "/meta " + config + " {\"config\":\"" + config + "\"}", "/after-meta - -"));
  }
}
