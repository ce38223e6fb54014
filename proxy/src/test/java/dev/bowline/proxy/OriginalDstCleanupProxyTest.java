package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An ORIGINAL_DST cluster's {@code cleanup_interval} over real sockets: a destination not used
 * since the last sweep is dropped, and its pooled connection closed, while a cluster whose interval
 * has not come keeps its connection open.
 */
class OriginalDstCleanupProxyTest {
  static final String IP = "127.0.7.41";
  static final String BACKEND_IP = "127.0.7.40";
  static ExecutorService executor;
  static Upstream quick;
  static Upstream slow;
  static SocketProxy proxy;

  /** A keep-alive HTTP/1.1 backend that counts the connections it accepted and saw closed. */
  static final class Upstream implements AutoCloseable {
    final ServerSocket server;
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();

    Upstream() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName(BACKEND_IP));
      executor.execute(
          () -> {
            while (!server.isClosed()) {
              try {
                Socket s = server.accept();
                accepted.incrementAndGet();
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
              closed.incrementAndGet(); // the proxy closed the connection
              return;
            }
            head.append((char) b);
          }
          s.getOutputStream()
              .write(
                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                      .getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        }
      } catch (IOException e) {
        closed.incrementAndGet();
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

  static String route(String prefix, String cluster, Upstream to) {
    return "{match: {prefix: "
        + prefix
        + "}, route: {cluster: "
        + cluster
        + "}, request_headers_to_add: [{header: {key: x-envoy-original-dst-host, value: \""
        + BACKEND_IP
        + ":"
        + to.port()
        + "\"}}]}";
  }

  static String cluster(String name, String cleanup) {
    return """
          - name: %s
            type: ORIGINAL_DST
            lb_policy: CLUSTER_PROVIDED
            original_dst_lb_config: {use_http_header: true}
        %s
        """
        .formatted(name, cleanup.isEmpty() ? "" : "    cleanup_interval: " + cleanup);
  }

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    quick = new Upstream();
    slow = new Upstream();
    proxy =
        SocketProxy.on(IP)
            .http("h", "", route("/quick", "quick", quick), route("/slow", "slow", slow))
            .clusterYaml(cluster("quick", "0.2s"))
            .clusterYaml(cluster("slow", "3600s"))
            .start();
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    quick.close();
    slow.close();
    executor.shutdownNow();
  }

  @Test
  void anUnusedDestinationIsDroppedAndItsConnectionClosedAfterTheCleanupInterval()
      throws Exception {
    int port = proxy.port("h");
    assertThat(proxy.get(port, "/slow").body()).isEqualTo("ok");
    assertThat(proxy.get(port, "/quick").body()).isEqualTo("ok");
    assertThat(quick.accepted.get()).isEqualTo(1);
    // not used since: a sweep marks it unused, the next drops it and closes its idle connection
    await().atMost(Duration.ofSeconds(60)).until(() -> quick.closed.get() == 1);
    // the cluster whose interval (an hour) has not come keeps its connection
    assertThat(slow.accepted.get()).isEqualTo(1);
    assertThat(slow.closed.get()).isZero();
    // the destination comes back as a new host, on a new connection
    assertThat(proxy.get(port, "/quick").body()).isEqualTo("ok");
    assertThat(quick.accepted.get()).isEqualTo(2);
  }
}
