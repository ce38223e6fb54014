package dev.bowline.proxy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP backend for tests (the JDK's server): answers every request with a text body that
 * says who answered and what arrived, so tests can see routing and header handling. {@code /slow}
 * waits a second; {@code /echo} returns the request body.
 */
final class Backend implements AutoCloseable {
  final String name;
  final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  Backend(String name, String ip) {
    this(name, ip, 0);
  }

  /** On {@code ip:port} (0: any free port). */
  Backend(String name, String ip, int port) {
    this.name = name;
    try {
      server = HttpServer.create(new InetSocketAddress(ip, port), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(executor);
    server.createContext(
        "/",
        ex -> {
          byte[] in = ex.getRequestBody().readAllBytes();
          String path = ex.getRequestURI().toString();
          if (path.startsWith("/slow")) {
            try {
              Thread.sleep(1000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          String body =
              path.startsWith("/echo")
                  ? new String(in, StandardCharsets.UTF_8)
                  : "backend="
                      + name
                      + " path="
                      + path
                      + " host="
                      + ex.getRequestHeaders().getFirst("Host")
                      + " xff="
                      + ex.getRequestHeaders().getFirst("X-Forwarded-For")
                      + " rid="
                      + ex.getRequestHeaders().getFirst("X-Request-Id")
                      + " timeout="
                      + ex.getRequestHeaders().getFirst("X-Envoy-Expected-Rq-Timeout-Ms")
                      + " proto="
                      + ex.getRequestHeaders().getFirst("X-Forwarded-Proto")
                      + " xfcc="
                      + ex.getRequestHeaders().getFirst("X-Forwarded-Client-Cert");
          byte[] out = body.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("X-Backend", name);
          if (path.startsWith("/chunked")) {
            ex.sendResponseHeaders(200, 0); // chunked
          } else {
            ex.sendResponseHeaders(200, out.length);
          }
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
