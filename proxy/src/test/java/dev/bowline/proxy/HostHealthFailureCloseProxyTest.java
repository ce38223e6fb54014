package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster's {@code close_connections_on_host_health_failure} over real sockets: when the HTTP
 * health check finds the host unhealthy, the proxy closes its connections to it, a busy one
 * included, so a request waiting on it ends at once (503) instead of waiting for the backend.
 */
class HostHealthFailureCloseProxyTest {
  static final String IP = "127.0.7.49";
  static final String BACKEND_IP = "127.0.7.48";
  static ExecutorService executor;
  static Upstream backend;
  static SocketProxy proxy;

  /**
   * A keep-alive HTTP/1.1 backend: {@code /healthz} answers 200 while {@link #healthy}, else 503;
   * {@code /hang} never answers (it waits for the proxy to close the connection); the rest 200.
   */
  static final class Upstream implements AutoCloseable {
    final ServerSocket server;
    final AtomicBoolean healthy = new AtomicBoolean(true);
    final AtomicInteger hanging = new AtomicInteger();
    final AtomicInteger hangClosed = new AtomicInteger();

    Upstream() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName(BACKEND_IP));
      executor.execute(
          () -> {
            while (!server.isClosed()) {
              try {
                Socket s = server.accept();
                executor.execute(() -> serve(s));
              } catch (IOException e) {
                return;
              }
            }
          });
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        while (true) {
          StringBuilder head = new StringBuilder();
          while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
              return;
            }
            head.append((char) b);
          }
          String path = head.substring(head.indexOf(" ") + 1, head.indexOf(" HTTP/"));
          if (path.startsWith("/hang")) {
            hanging.incrementAndGet();
            while (in.read() >= 0) {
              // nothing is answered: the proxy must close this connection
            }
            hangClosed.incrementAndGet();
            return;
          }
          String status = path.equals("/healthz") && !healthy.get() ? "503 Unavailable" : "200 OK";
          s.getOutputStream()
              .write(
                  ("HTTP/1.1 " + status + "\r\nContent-Length: 2\r\n\r\nok")
                      .getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        }
      } catch (IOException e) {
        // the proxy reset the connection
      }
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    backend = new Upstream();
    proxy =
        SocketProxy.on(IP)
            .http("h", "", "{match: {prefix: /}, route: {cluster: checked, timeout: 0s}}")
            .cluster(
                "checked",
                BACKEND_IP,
                backend.port(),
                """
                close_connections_on_host_health_failure: true
                health_checks:
                - timeout: 5s
                  interval: 0.2s
                  no_traffic_interval: 0.2s # Envoy's default 60 s: the check before /warm
                  unhealthy_threshold: 1
                  healthy_threshold: 1
                  http_health_check: {path: /healthz}
                """)
            .start();
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    backend.close();
    executor.shutdownNow();
  }

  @Test
  void aHostFailingItsHealthCheckHasItsBusyConnectionClosed() throws Exception {
    int port = proxy.port("h");
    assertThat(proxy.get(port, "/warm").statusCode()).isEqualTo(200);
    CompletableFuture<HttpResponse<String>> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return proxy.get(port, "/hang");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            executor);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.hanging.get() == 1);
    backend.healthy.set(false);
    // the health check fails the host: its connection closes under the waiting request
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.hangClosed.get() == 1);
    assertThat(waiting.get().statusCode()).isEqualTo(503);
  }
}
