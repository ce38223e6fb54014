package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./bowline proxy -c bootstrap.yaml} as a real process: readiness, SIGTERM drain, quit. */
class ProxyIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final String IP = TestNet.ip("127.0.6.40");
  private static final String BACKEND_IP = TestNet.ip("127.0.6.41");

  @TempDir Path dir;
  HttpServer backend;
  int listenPort;
  int adminPort;
  Process proxy;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(IP))) {
      return s.getLocalPort();
    }
  }

  @BeforeEach
  void start() throws Exception {
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 16);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext(
        "/",
        ex -> {
          try {
            Thread.sleep(ex.getRequestURI().getPath().equals("/slow") ? 1500 : 0);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] body = ("hello from " + ex.getRequestURI().getPath()).getBytes();
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    backend.start();
    listenPort = freePort();
    adminPort = freePort();
    Path bootstrap = dir.resolve("bootstrap.yaml");
    Files.writeString(
        bootstrap,
        """
        node: {id: it}
        admin: {address: {socket_address: {address: %1$s, port_value: %3$d}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: in
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}
          clusters:
          - name: app
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %5$s, port_value: %4$d}}}}]}]
        """
            .formatted(IP, listenPort, adminPort, backend.getAddress().getPort(), BACKEND_IP));
    proxy =
        new ProcessBuilder(
                ROOT.resolve("bowline").toString(),
                "proxy",
                "-c",
                bootstrap.toString(),
                "--concurrency",
                "1",
                "--drain-time-s",
                "5")
            .directory(ROOT.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(dir.resolve("err.txt").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(adminPort, "/ready").statusCode() == 200);
  }

  @AfterEach
  void stop() {
    proxy.destroyForcibly();
    backend.stop(0);
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void sigtermLetsTheRequestInFlightFinishThenExits() throws Exception {
    assertThat(get(listenPort, "/hi").body()).isEqualTo("hello from /hi");
    CompletableFuture<HttpResponse<String>> slow =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + listenPort + "/slow")).build(),
            HttpResponse.BodyHandlers.ofString());
    Thread.sleep(300); // the request is at the backend now
    proxy.destroy(); // SIGTERM
    HttpResponse<String> r = slow.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from /slow");
    assertThat(r.headers().firstValue("connection")).contains("close");
    assertThat(proxy.waitFor(10, TimeUnit.SECONDS)).as("the proxy exits after draining").isTrue();
  }

  @Test
  void quitquitquitStopsTheProxy() throws Exception {
    var r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + adminPort + "/quitquitquit"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.body()).isEqualTo("OK\n");
    assertThat(proxy.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(proxy.exitValue()).isZero();
  }
}
