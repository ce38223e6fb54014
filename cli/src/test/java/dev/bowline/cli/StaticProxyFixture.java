package dev.bowline.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * What {@link ProxyIT} and {@link ProxyLifecycleIT} share: a backend answering {@code hello from
 * <path>}, a static bootstrap (one HTTP listener routing everything to it, an admin address) and an
 * HTTP/1.1 client for the proxy's address. {@code /held} waits at the backend until {@link
 * #release} (counting down {@link #arrived} first); {@code /slow} answers 1.5 s after it arrived
 * (counting down {@link #slowArrived} first).
 */
final class StaticProxyFixture implements AutoCloseable {
  final String ip;
  final HttpServer backend;

  /** Released by {@link #close}: {@code /held} waits for it. */
  final CountDownLatch release = new CountDownLatch(1);

  /** Counted down when {@code /held} reaches the backend. */
  final CountDownLatch arrived = new CountDownLatch(1);

  /** Counted down when {@code /slow} reaches the backend. */
  final CountDownLatch slowArrived = new CountDownLatch(1);

  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Starts the backend on {@code backendIp}; the proxy's listener and admin go on {@code ip}. */
  StaticProxyFixture(String ip, String backendIp) throws IOException {
    this.ip = ip;
    backend = HttpServer.create(new InetSocketAddress(backendIp, 0), 16);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext(
        "/",
        ex -> {
          try {
            switch (ex.getRequestURI().getPath()) {
              case "/held" -> {
                arrived.countDown();
                release.await();
              }
              case "/slow" -> {
                slowArrived.countDown();
                Thread.sleep(1500);
              }
              default -> {}
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] body = ("hello from " + ex.getRequestURI().getPath()).getBytes();
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    backend.start();
  }

  /** A port free on {@link #ip} now. */
  int freePort() throws IOException {
    return TestNet.freePort(ip);
  }

  /**
   * Writes into {@code dir} a bootstrap for node {@code nodeId}: listener {@code http} on {@code
   * listenPort}, admin on {@code adminPort}, cluster {@code app} = the backend.
   */
  Path bootstrap(Path dir, String nodeId, int listenPort, int adminPort) throws IOException {
    Path f = dir.resolve("bootstrap-" + listenPort + ".yaml");
    Files.writeString(
        f,
        """
        node: {id: %6$s}
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
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app, timeout: 60s}}]}
          clusters:
          - name: app
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %5$s, port_value: %4$d}}}}]}]
        """
            .formatted(
                ip,
                listenPort,
                adminPort,
                backend.getAddress().getPort(),
                backend.getAddress().getAddress().getHostAddress(),
                nodeId));
    return f;
  }

  HttpResponse<String> get(int port, String path, Duration timeout) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + path))
            .timeout(timeout)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  CompletableFuture<HttpResponse<String>> getAsync(int port, String path) {
    return client.sendAsync(
        HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(int port, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    release.countDown();
    backend.stop(0);
  }
}
