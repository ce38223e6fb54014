package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster's {@code preconnect_policy.per_upstream_preconnect_ratio} on HTTP/1.1, as Envoy's pool
 * applies it ({@code shouldConnect}: requests in flight times the ratio against the connections
 * busy, idle or on their way): with a ratio of 2 one request keeps a second connection ready, and
 * sequential requests then reuse the two without opening more; without the policy a host gets one
 * connection. Netty backends count the connections they accept.
 */
class PreconnectProxyTest {
  static final String IP = "127.0.85.1";

  static NettyBackend eager;
  static NettyBackend lazy;
  static Proxy proxy;
  static int port;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    eager = new NettyBackend("eager", "127.0.85.2");
    lazy = new NettyBackend("lazy", "127.0.85.3");
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: pre
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: pre
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /eager}, route: {cluster: eager}}
                      - {match: {prefix: /}, route: {cluster: lazy}}
          clusters:
          - name: eager
            preconnect_policy: {per_upstream_preconnect_ratio: 2}
            load_assignment:
              cluster_name: eager
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
          - name: lazy
            load_assignment:
              cluster_name: lazy
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, port, eager.ip(), eager.port(), lazy.ip(), lazy.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("preconnect.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    eager.close();
    lazy.close();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static void get(String path) throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  @Test
  void aRatioOfTwoKeepsASecondConnectionReady() throws Exception {
    get("/eager/1");
    await().atMost(Duration.ofSeconds(20)).until(() -> eager.connections.get() == 2);
    for (int i = 2; i <= 6; i++) {
      get("/eager/" + i);
    }
    assertThat(eager.connections.get()).isEqualTo(2); // one in use, one ready, none more
    assertThat(stat("cluster.eager.upstream_cx_total")).isEqualTo(2);
  }

  @Test
  void withoutThePolicyAHostConnectsOnDemand() throws Exception {
    for (int i = 1; i <= 3; i++) {
      get("/lazy/" + i);
    }
    assertThat(lazy.connections.get()).isEqualTo(1);
    assertThat(stat("cluster.lazy.upstream_cx_total")).isEqualTo(1);
  }
}
