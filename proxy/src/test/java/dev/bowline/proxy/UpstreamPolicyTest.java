package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Load balancing, circuit breakers and outlier detection of the proxy from a static bootstrap, over
 * real sockets: consistent hashing by header, query parameter, source IP and generated cookie;
 * overflow answered 503 with {@code x-envoy-overloaded}; an erroring endpoint ejected and visible
 * in {@code /clusters}; priority failover and return.
 */
class UpstreamPolicyTest {
  static final String IP = "127.0.61.1";
  static final List<ToggleBackend> backends = new ArrayList<>();
  static Proxy proxy;
  static int port;
  static int adminPort;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static ToggleBackend b(int i) {
    return backends.get(i - 1);
  }

  static String bootstrap() {
    String hcm =
        """
        - name: envoy.filters.network.http_connection_manager
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            stat_prefix: lb
            http_filters:
            - name: envoy.filters.http.router
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
            route_config:
              name: local
              virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                - match: {prefix: /ring}
                  route: {cluster: ring, hash_policy: [{header: {header_name: x-user}}]}
                - match: {prefix: /maglev}
                  route: {cluster: maglev, hash_policy: [{query_parameter: {name: u}}]}
                - match: {prefix: /cookie}
                  route: {cluster: ring, hash_policy: [{cookie: {name: lbc, ttl: 60s, path: /}}]}
                - match: {prefix: /srcip}
                  route: {cluster: maglev, hash_policy: [{connection_properties: {source_ip: true}}]}
                - match: {prefix: /cb}
                  route: {cluster: cb}
                - match: {prefix: /outlier}
                  route: {cluster: od}
                - match: {prefix: /prio}
                  route: {cluster: prio}
                - match: {prefix: /hc}
                  route: {cluster: hc}
        """;
    return """
        node: {id: lb-test, cluster: test}
        admin:
          address: {socket_address: {address: %1$s, port_value: %3$d}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
        %4$s
          clusters:
          - name: ring
            type: STATIC
            lb_policy: RING_HASH
            ring_hash_lb_config: {minimum_ring_size: 2048}
            load_assignment:
              cluster_name: ring
              endpoints: [{lb_endpoints: [%5$s, %6$s, %7$s]}]
          - name: maglev
            type: STATIC
            lb_policy: MAGLEV
            load_assignment:
              cluster_name: maglev
              endpoints: [{lb_endpoints: [%5$s, %6$s, %7$s]}]
          - name: cb
            type: STATIC
            circuit_breakers:
              thresholds: [{max_connections: 1, max_pending_requests: 1, max_requests: 100}]
            load_assignment:
              cluster_name: cb
              endpoints: [{lb_endpoints: [%8$s]}]
          - name: od
            type: STATIC
            outlier_detection:
              consecutive_5xx: 3
              interval: 1s
              base_ejection_time: 30s
              max_ejection_percent: 100
            load_assignment:
              cluster_name: od
              endpoints: [{lb_endpoints: [%9$s, %10$s, %11$s]}]
          - name: prio
            type: STATIC
            outlier_detection:
              consecutive_5xx: 2
              interval: 0.5s
              base_ejection_time: 3s
              max_ejection_percent: 100
            load_assignment:
              cluster_name: prio
              endpoints:
              - locality: {region: r1, zone: local}
                lb_endpoints: [%12$s]
              - locality: {region: r1, zone: other}
                priority: 1
                lb_endpoints: [%13$s, %14$s]
          - name: hc
            type: STATIC
            health_checks:
            - timeout: 0.5s
              interval: 0.2s
              no_traffic_interval: 0.2s
              unhealthy_threshold: 2
              healthy_threshold: 1
              http_health_check: {path: /healthz}
            load_assignment:
              cluster_name: hc
              endpoints: [{lb_endpoints: [%15$s, %16$s]}]
        """
        .formatted(
            IP,
            port,
            adminPort,
            hcm.indent(6).stripTrailing(),
            b(1).yaml(),
            b(2).yaml(),
            b(3).yaml(),
            b(4).yaml(),
            b(5).yaml(),
            b(6).yaml(),
            b(7).yaml(),
            b(8).yaml(),
            b(9).yaml(),
            b(10).yaml(),
            b(11).yaml(),
            b(12).yaml());
  }

  @BeforeAll
  static void start() {
    for (int i = 1; i <= 12; i++) {
      backends.add(new ToggleBackend("b" + i, "127.0.61." + (10 + i)));
    }
    port = Ports.free(IP);
    adminPort = Ports.free(IP);
    var bs = new BootstrapLoader().parse("lb-test.yaml", bootstrap());
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(2));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backends.forEach(ToggleBackend::close);
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    var req = HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path));
    if (headers.length > 0) {
      req.headers(headers);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String admin(String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + adminPort + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static Map<String, Integer> spread(int n, String path, String... headers) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(get(path, headers).body(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void theSameHeaderValueHitsTheSameEndpointEveryTime() throws Exception {
    Map<String, Integer> alice = spread(1000, "/ring", "x-user", "alice");
    assertThat(alice).hasSize(1);
    assertThat(alice.values()).containsExactly(1000);
    // different users spread over the endpoints
    Map<String, Integer> users = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      users.merge(get("/ring", "x-user", "user-" + i).body(), 1, Integer::sum);
    }
    assertThat(users.keySet()).hasSize(3);
  }

  @Test
  void maglevByQueryParameterAndSourceIp() throws Exception {
    assertThat(spread(200, "/maglev?u=bob")).hasSize(1);
    Map<String, Integer> users = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      users.merge(get("/maglev?u=user-" + i).body(), 1, Integer::sum);
    }
    assertThat(users.keySet()).hasSize(3);
    assertThat(spread(100, "/srcip")).hasSize(1); // one client address
  }

  @Test
  void anAbsentHashCookieIsGeneratedAndThenPinsTheClient() throws Exception {
    HttpResponse<String> first = get("/cookie");
    String setCookie = first.headers().firstValue("set-cookie").orElseThrow();
    assertThat(setCookie).matches("lbc=\"[0-9a-f]{16}\"; Max-Age=60; Path=/; HttpOnly");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    Map<String, Integer> pinned = spread(100, "/cookie", "cookie", cookie);
    assertThat(pinned).hasSize(1);
    assertThat(get("/cookie", "cookie", cookie).headers().firstValue("set-cookie")).isEmpty();
  }

  @Test
  void overflowIsAnswered503OverloadedAndCounted() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    // 20 concurrent callers, each on its own connection
    for (int i = 0; i < 20; i++) {
      HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      calls.add(
          own.sendAsync(
              HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/cb/slow")).build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int overflow = 0;
    for (var c : calls) {
      HttpResponse<String> r = c.get();
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("x-envoy-overloaded")).contains("true");
        assertThat(r.body()).contains("overflow");
        overflow++;
      }
    }
    // the first; the others only while a unit of max_pending_requests was free (a request waiting
    // for the connection opened for it holds one, as in Envoy)
    assertThat(ok).isGreaterThanOrEqualTo(1);
    assertThat(overflow).isGreaterThanOrEqualTo(10);
    String stats = admin("/stats");
    assertThat(stat(stats, "cluster.cb.upstream_rq_pending_overflow")).isEqualTo(overflow);
    // as Envoy's newStreamImpl: a request refused by max_pending_requests never reaches the
    // connection limit; only requests that waited for a connection of the host count there
    assertThat(stat(stats, "cluster.cb.upstream_cx_overflow")).isLessThanOrEqualTo(ok);
    // one connection, or one per event loop: a loop without any opens one past the limit (Envoy)
    assertThat(stat(stats, "cluster.cb.upstream_cx_total")).isBetween(1L, 2L);
  }

  static long stat(String stats, String name) {
    for (String line : stats.split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    throw new AssertionError("no stat " + name + " in\n" + stats);
  }

  @Test
  void anErroringEndpointIsEjectedAndGetsNoMoreTraffic() throws Exception {
    b(5).status.set(500);
    try {
      int errors = 0;
      for (int i = 0; i < 30; i++) {
        if (get("/outlier").statusCode() == 500) {
          errors++;
        }
      }
      // ejected after its third 5xx in a row: at most 3 errors reached the client
      assertThat(errors).isEqualTo(3);
      Map<String, Integer> after = spread(300, "/outlier");
      assertThat(after).doesNotContainKey("backend=b5");
      assertThat(after.keySet()).containsExactlyInAnyOrder("backend=b6", "backend=b7");
      String clusters = admin("/clusters");
      assertThat(clusters)
          .contains(
              "od::" + b(5).ip() + ":" + b(5).port() + "::health_flags::/failed_outlier_check")
          .contains("od::" + b(6).ip() + ":" + b(6).port() + "::health_flags::healthy");
      assertThat(stat(admin("/stats"), "cluster.od.outlier_detection.ejections_enforced_total"))
          .isEqualTo(1);
    } finally {
      b(5).status.set(200);
    }
  }

  @Test
  void trafficFailsOverToTheNextPriorityAndReturns() throws Exception {
    assertThat(spread(50, "/prio")).containsOnlyKeys("backend=b8");
    b(8).status.set(503);
    // two 503s in a row eject b8; priority 1 then takes everything
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                spread(20, "/prio").keySet().equals(java.util.Set.of("backend=b9", "backend=b10")));
    Map<String, Integer> failover = spread(60, "/prio");
    assertThat(failover).containsOnlyKeys("backend=b9", "backend=b10");
    assertThat(failover.get("backend=b9")).isBetween(15, 45);
    b(8).status.set(200);
    // after base_ejection_time the next interval brings b8 back, and priority 0 takes over again
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> spread(20, "/prio").keySet().equals(java.util.Set.of("backend=b8")));
    assertThat(spread(100, "/prio")).containsOnlyKeys("backend=b8");
  }

  @Test
  void anEndpointFailingItsHealthCheckLeavesAndComesBack() throws Exception {
    assertThat(spread(40, "/hc")).containsOnlyKeys("backend=b11", "backend=b12");
    b(11).status.set(503);
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> spread(10, "/hc").keySet().equals(java.util.Set.of("backend=b12")));
      assertThat(admin("/clusters"))
          .contains("hc::" + b(11).ip() + ":" + b(11).port() + "::health_flags::/failed_active_hc");
    } finally {
      b(11).status.set(200);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> spread(20, "/hc").containsKey("backend=b11"));
  }
}
