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
 * A backend tests can tell to fail: answers {@code backend=<name>} with the status it is set to
 * (200 unless told otherwise); {@code /slow} waits 300 ms first.
 */
final class ToggleBackend implements AutoCloseable {
  final String name;
  final AtomicInteger status = new AtomicInteger(200);
  final AtomicInteger served = new AtomicInteger();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  ToggleBackend(String name, String ip) {
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
          ex.getRequestBody().readAllBytes();
          if (ex.getRequestURI().getPath().contains("/slow")) {
            try {
              Thread.sleep(300);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          served.incrementAndGet();
          byte[] out = ("backend=" + name).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status.get(), out.length);
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

  /** The endpoint as a YAML socket address. */
  String yaml() {
    return "{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}"
        .formatted(ip(), port());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
