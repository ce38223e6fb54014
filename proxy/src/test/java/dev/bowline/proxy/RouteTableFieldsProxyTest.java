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

  static Proxy proxy;
  static int port;
  static int faultPort;
  static Path log;

  @BeforeAll
  static void start() throws IOException {
    log = Files.createTempDirectory("route-table-fields").resolve("access.log");
    port = Ports.free(IP);
    faultPort = Ports.free(IP);
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
        """
            .formatted(IP, port, log, faultPort);
    var bs = new BootstrapLoader().parse("route-table-fields.yaml", yaml);
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
  }

  static int get(String path) throws Exception {
    return get(port, "p.example", path);
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
}
