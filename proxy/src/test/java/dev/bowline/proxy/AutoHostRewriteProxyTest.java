package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A route's {@code auto_host_rewrite} over real sockets: the Host the backend gets is the chosen
 * host's hostname (an endpoint's {@code hostname}, or the name a DNS cluster resolved), and stays
 * when the host has none; {@code append_x_forwarded_host} keeps the original in {@code
 * x-forwarded-host}.
 */
class AutoHostRewriteProxyTest {
  static final String IP = "127.0.7.45";
  static final String BACKEND_IP = "127.0.7.44";
  static HttpServer backend;
  static ExecutorService executor;
  static SocketProxy proxy;
  static int port;

  /** A cluster of the backend, {@code type}, whose endpoint has {@code hostname} (empty: none). */
  static String cluster(String name, String type, String hostname) {
    String endpoint =
        (hostname.isEmpty() ? "" : "hostname: " + hostname + ", ")
            + "address: {socket_address: {address: "
            + BACKEND_IP
            + ", port_value: "
            + backend.getAddress().getPort()
            + "}}";
    return """
          - name: %1$s
            type: %2$s
            dns_lookup_family: V4_ONLY
            load_assignment:
              cluster_name: %1$s
              endpoints: [{lb_endpoints: [{endpoint: {%3$s}}]}]
        """
        .formatted(name, type, endpoint);
  }

  static String auto(String prefix, String cluster, String extra) {
    return "{match: {prefix: "
        + prefix
        + "}, route: {cluster: "
        + cluster
        + ", auto_host_rewrite: true"
        + extra
        + "}}";
  }

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          var h = ex.getRequestHeaders();
          byte[] b =
              ("host=" + h.getFirst("Host") + "\nxfh=" + h.getFirst("X-Forwarded-Host"))
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    backend.start();
    proxy =
        SocketProxy.on(IP)
            .http(
                "h",
                "",
                auto("/static-named", "static_named", ""),
                auto("/static-plain", "static_plain", ""),
                auto("/dns-named", "dns_named", ""),
                auto("/dns-plain", "dns_plain", ""),
                auto("/xfh", "static_named", ", append_x_forwarded_host: true"),
                SocketProxy.to("/off", "static_named"))
            .clusterYaml(cluster("static_named", "STATIC", "static-host.example"))
            .clusterYaml(cluster("static_plain", "STATIC", ""))
            .clusterYaml(cluster("dns_named", "STRICT_DNS", "dns-host.example"))
            .clusterYaml(cluster("dns_plain", "LOGICAL_DNS", ""))
            .start();
    port = proxy.port("h");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.shutdownNow();
  }

  /** The backend's answer to {@code path}: {@code host=...\nxfh=...}. */
  static String echo(String path) throws Exception {
    var r = proxy.get(port, path);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The Host the backend saw for {@code path}. */
  static String seen(String path) throws Exception {
    String body = echo(path);
    return body.substring(5, body.indexOf('\n'));
  }

  @Test
  void theHostIsTheEndpointsHostname() throws Exception {
    assertThat(seen("/static-named")).isEqualTo("static-host.example");
    assertThat(seen("/dns-named")).isEqualTo("dns-host.example");
  }

  @Test
  void aDnsHostWithoutAHostnameTakesTheNameItWasResolvedFrom() throws Exception {
    // the name resolved here is an address literal: it is what the Host becomes
    assertThat(seen("/dns-plain")).isEqualTo(BACKEND_IP);
  }

  @Test
  void aHostWithoutHostnameKeepsTheRequestsHost() throws Exception {
    assertThat(seen("/static-plain")).isEqualTo(IP + ":" + port);
  }

  @Test
  void withoutTheOptionTheHostStays() throws Exception {
    assertThat(seen("/off")).isEqualTo(IP + ":" + port);
  }

  @Test
  void appendXForwardedHostKeepsTheOriginalHost() throws Exception {
    assertThat(echo("/xfh")).isEqualTo("host=static-host.example\nxfh=" + IP + ":" + port);
    // without append_x_forwarded_host nothing is added
    assertThat(echo("/static-named")).endsWith("\nxfh=null");
  }
}
