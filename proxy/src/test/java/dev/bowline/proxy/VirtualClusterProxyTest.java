package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A virtual host's {@code virtual_clusters} over real sockets: a request is counted in the first
 * virtual cluster whose headers ({@code :method} and {@code :path} included) all match, else in
 * Envoy's catch-all {@code other}, under {@code vhost.<vh>.vcluster.<name>.upstream_rq_*} on the
 * admin's {@code /stats} text; a virtual host without virtual clusters has none. Also a route's
 * {@code :method} header matcher, which reads the request's method as Envoy's does.
 */
class VirtualClusterProxyTest {
  static final String IP = "127.0.7.240";
  static final String BACKEND_IP = "127.0.7.241";

  static ExecutorService executor;
  static HttpServer backend;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          String p = ex.getRequestURI().getPath();
          int status = 200;
          if (p.startsWith("/status/")) {
            status = Integer.parseInt(p.substring("/status/".length()));
          } else if (p.startsWith("/slow")) {
            try {
              Thread.sleep(3_000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          byte[] b = "ok".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    backend.start();
    port = Ports.free(IP);
    String yaml =
        """
        node: {id: vcluster-test, cluster: test}
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
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: t
                    virtual_hosts:
                    - name: api
                      domains: ["api.example"]
                      virtual_clusters:
                      - name: users_get
                        headers:
                        - {name: ":method", string_match: {exact: GET}}
                        - {name: ":path", string_match: {prefix: /users}}
                      - name: tenant
                        headers: [{name: x-tenant, string_match: {exact: gold}}]
                      - name: slow
                        headers: [{name: ":path", safe_regex_match: {regex: "^/slow.*"}}]
                      routes:
                      - match: {prefix: /slow}
                        route: {cluster: main, timeout: 0.3s}
                      - match: {prefix: /}
                        route: {cluster: main}
                    - name: plain
                      domains: ["*"]
                      routes:
                      - match:
                          prefix: /m
                          headers: [{name: ":method", string_match: {exact: POST}}]
                        direct_response: {status: 201, body: {inline_string: posted}}
                      - match: {prefix: /}
                        route: {cluster: main}
          clusters:
          - name: main
            type: STATIC
            load_assignment:
              cluster_name: main
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %3$s, port_value: %4$d}}}}]}]
        """
            .formatted(IP, port, BACKEND_IP, backend.getAddress().getPort());
    var bs = new BootstrapLoader().parse("vcluster.yaml", yaml);
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.shutdownNow();
  }

  /** The status of {@code method path} sent with {@code Host: host} and {@code extra} headers. */
  static int send(String method, String host, String path, String extra) throws Exception {
    try (var s = new java.net.Socket(IP, port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write(
              (method
                      + " "
                      + path
                      + " HTTP/1.1\r\nHost: "
                      + host
                      + "\r\n"
                      + extra
                      + "Content-Length: 0\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(all.split(" ")[1]);
    }
  }

  static void awaitStats(String... lines) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(proxy.stats().text()).contains(lines));
  }

  @Test
  void aRequestIsCountedInTheFirstVirtualClusterItsMethodAndPathMatch() throws Exception {
    assertThat(send("GET", "api.example", "/users/1?x=1", "")).isEqualTo(200);
    assertThat(send("GET", "api.example", "/users/2", "")).isEqualTo(200);
    awaitStats(
        "vhost.api.vcluster.users_get.upstream_rq_total: 2",
        "vhost.api.vcluster.users_get.upstream_rq_completed: 2",
        "vhost.api.vcluster.users_get.upstream_rq_2xx: 2",
        "vhost.api.vcluster.users_get.upstream_rq_200: 2");
    assertThat(proxy.stats().text()).contains("vhost.api.vcluster.users_get.upstream_rq_time: P0(");
    String prom = proxy.stats().prometheus();
    assertThat(prom)
        .contains(
            "envoy_vhost_vcluster_upstream_rq{envoy_response_code=\"200\","
                + "envoy_virtual_cluster_name=\"users_get\",envoy_virtual_host_name=\"api\"} 2");
  }

  @Test
  void whatNoVirtualClusterMatchesIsCountedInOther() throws Exception {
    // a POST to /users is not users_get's (its :method matcher), nor any other's
    assertThat(send("POST", "api.example", "/users/3", "")).isEqualTo(200);
    assertThat(send("GET", "api.example", "/status/404", "")).isEqualTo(404);
    awaitStats(
        "vhost.api.vcluster.other.upstream_rq_total: 2",
        "vhost.api.vcluster.other.upstream_rq_2xx: 1",
        "vhost.api.vcluster.other.upstream_rq_404: 1",
        "vhost.api.vcluster.other.upstream_rq_4xx: 1");
  }

  @Test
  void anUpstream5xxIsCountedByCodeAndClass() throws Exception {
    assertThat(send("GET", "api.example", "/status/503", "x-tenant: gold\r\n")).isEqualTo(503);
    awaitStats(
        "vhost.api.vcluster.tenant.upstream_rq_total: 1",
        "vhost.api.vcluster.tenant.upstream_rq_503: 1",
        "vhost.api.vcluster.tenant.upstream_rq_5xx: 1");
  }

  @Test
  void aRouteTimeoutIsCountedAsTimeoutAnd504() throws Exception {
    assertThat(send("GET", "api.example", "/slow", "")).isEqualTo(504);
    awaitStats(
        "vhost.api.vcluster.slow.upstream_rq_total: 1",
        "vhost.api.vcluster.slow.upstream_rq_timeout: 1",
        "vhost.api.vcluster.slow.upstream_rq_504: 1",
        "vhost.api.vcluster.slow.upstream_rq_5xx: 1");
  }

  @Test
  void aVirtualHostWithoutVirtualClustersHasNoVirtualClusterStats() throws Exception {
    assertThat(send("GET", "plain.example", "/p", "")).isEqualTo(200);
    awaitStats("cluster.main.upstream_rq_2xx:");
    assertThat(proxy.stats().text()).doesNotContain("vhost.plain.");
  }

  @Test
  void aRoutesMethodHeaderMatcherReadsTheRequestsMethod() throws Exception {
    assertThat(send("POST", "plain.example", "/m", "")).isEqualTo(201);
    assertThat(send("GET", "plain.example", "/m", "")).isEqualTo(200);
  }
}
