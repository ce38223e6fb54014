package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

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
 * An upstream HTTP/1 response that ends its connection ({@code connection: close}, or HTTP/1.0
 * without keep-alive), as Envoy's HTTP/1 pool takes it ({@code StreamWrapper::decodeHeaders}):
 * counted in {@code upstream_cx_close_notify}, and the connection is not used again. A backend
 * written byte for byte counts the connections the proxy opens.
 */
class UpstreamCloseNotifyProxyTest {
  static final String IP = "127.0.82.1";

  static ScriptedBackend backend;
  static Proxy proxy;
  static int port;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend =
        new ScriptedBackend(
            "127.0.82.2",
            (path, out) -> {
              switch (path) {
                case "/close" -> {
                  ScriptedBackend.write(
                      out,
                      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nclose");
                  return false;
                }
                case "/old" -> {
                  ScriptedBackend.write(out, "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold");
                  return false;
                }
                default -> {
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nkeep");
                  return true;
                }
              }
            });
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: notify
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: notify
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /}, route: {cluster: b}}
          clusters:
          - name: b
            load_assignment:
              cluster_name: b
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, port, backend.ip(), backend.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("notify.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static String get(String path) throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void aResponseThatClosesItsConnectionIsCountedAndTheConnectionIsNotReused() throws Exception {
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(1); // kept alive and reused
    assertThat(stat("cluster.b.upstream_cx_close_notify")).isZero();

    assertThat(get("/close")).isEqualTo("close");
    assertThat(stat("cluster.b.upstream_cx_close_notify")).isEqualTo(1);
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(2); // a new one after the close

    // HTTP/1.0 without keep-alive says the same
    assertThat(get("/old")).isEqualTo("old");
    assertThat(stat("cluster.b.upstream_cx_close_notify")).isEqualTo(2);
    assertThat(get("/keep")).isEqualTo("keep");
    assertThat(backend.connections.get()).isEqualTo(3);
    assertThat(stat("cluster.b.upstream_cx_total")).isEqualTo(3);
  }
}
