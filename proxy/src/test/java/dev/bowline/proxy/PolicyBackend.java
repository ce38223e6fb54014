package dev.bowline.proxy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that can be told to fail, delay or report: {@code /flaky} fails 2 of every 3 requests
 * with 503, {@code /status/N} answers N, {@code /grpc/N} answers 200 with {@code grpc-status: N},
 * {@code /header} answers 200 with {@code x-retry-me}, {@code /slow-first} sleeps a second on every
 * other request; everything else answers 200. Bodies say {@code backend=NAME
 * attempt=X-ENVOY-ATTEMPT-COUNT}.
 */
final class PolicyBackend implements AutoCloseable {
  final String name;
  final HttpServer server;
  final AtomicInteger requests = new AtomicInteger();
  volatile String lastHost = "";
  volatile String lastBody = "";
  // every x-envoy-expected-rq-timeout-ms value of the last request, in order
  volatile java.util.List<String> lastTimeouts = java.util.List.of();
  private final java.util.Map<String, AtomicInteger> flaky =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  PolicyBackend(String name, String ip) {
    this.name = name;
    try {
      server = HttpServer.create(new InetSocketAddress(ip, 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(executor);
    server.createContext(
        "/",
        ex -> {
          lastBody = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          int n = requests.incrementAndGet();
          lastHost = ex.getRequestHeaders().getFirst("Host");
          var timeouts = ex.getRequestHeaders().get("X-Envoy-Expected-Rq-Timeout-Ms");
          lastTimeouts = timeouts == null ? java.util.List.of() : java.util.List.copyOf(timeouts);
          String path = ex.getRequestURI().getPath();
          int status = 200;
          if (path.startsWith("/flaky")) {
            int k = flaky.computeIfAbsent(path, x -> new AtomicInteger()).incrementAndGet();
            status = k % 3 == 0 ? 200 : 503;
          } else if (path.startsWith("/status/")) {
            status = Integer.parseInt(path.substring(8));
          } else if (path.startsWith("/grpc/")) {
            ex.getResponseHeaders().set("grpc-status", path.substring(6));
          } else if (path.startsWith("/header")) {
            ex.getResponseHeaders().set("x-retry-me", "yes");
          } else if (path.startsWith("/slow") && (!path.startsWith("/slow-first") || n % 2 == 1)) {
            try {
              Thread.sleep(1000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          byte[] out =
              ("backend="
                      + name
                      + " attempt="
                      + ex.getRequestHeaders().getFirst("X-Envoy-Attempt-Count")
                      + " host="
                      + ex.getRequestHeaders().getFirst("Host")
                      + " uri="
                      + ex.getRequestURI()
                      + " wc="
                      + ex.getRequestHeaders().getFirst("X-Wc"))
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  String ip() {
    return server.getAddress().getAddress().getHostAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
