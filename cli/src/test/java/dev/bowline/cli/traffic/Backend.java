package dev.bowline.cli.traffic;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A workload's app for end-to-end tests: answers {@code <name>} with the status it is told to (200
 * by default); {@code /slow} waits 300 ms first.
 */
final class Backend implements AutoCloseable {
  final String name;
  final AtomicInteger status = new AtomicInteger(200);
  final AtomicInteger hits = new AtomicInteger();
  // when above 0: every failEvery-th request answers 500 (a partly failing endpoint)
  final AtomicInteger failEvery = new AtomicInteger();
  // the client address:port of every connection that brought a request
  final java.util.Set<String> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  Backend(String name, String ip) {
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
          hits.incrementAndGet();
          connections.add(ex.getRemoteAddress().toString());
          if (ex.getRequestURI().getPath().startsWith("/slow")) {
            try {
              Thread.sleep(300);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          byte[] out = name.getBytes(StandardCharsets.UTF_8);
          int every = failEvery.get();
          int code = every > 0 && hits.get() % every == 0 ? 500 : status.get();
          ex.sendResponseHeaders(code, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
