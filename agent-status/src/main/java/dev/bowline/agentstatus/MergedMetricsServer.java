package dev.bowline.agentstatus;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * pilot-agent's merged metrics on :15020 {@code /stats/prometheus}: one scrape returns the proxy's
 * metrics (its {@code :15090/stats/prometheus}, Istio's standard metrics included), the
 * application's own (where Istio's {@code prometheus.io/port} and {@code prometheus.io/path}
 * annotations point), and the agent's scrape counters, so Prometheus needs one target per workload.
 * A failing application scrape leaves the proxy's part in the answer and counts as {@code
 * istio_agent_scrape_failures_total{type="application"}}; a failing proxy scrape is a 503, as in
 * pilot-agent.
 */
public final class MergedMetricsServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MergedMetricsServer.class.getName());

  /** Istio's status port. */
  public static final int ISTIO_PORT = 15020;

  /** The path Prometheus scrapes. */
  public static final String PATH = "/stats/prometheus";

  private final HttpServer server;
  private final java.util.concurrent.ExecutorService executor =
      Executors.newVirtualThreadPerTaskExecutor();
  private final HttpClient client;
  private final URI envoy;
  private final Optional<URI> app;
  private final AtomicLong scrapes = new AtomicLong();
  private final AtomicLong envoyFailures = new AtomicLong();
  private final AtomicLong appFailures = new AtomicLong();

  private MergedMetricsServer(HttpServer server, URI envoy, Optional<URI> app) {
    this.server = server;
    this.envoy = envoy;
    this.app = app;
    this.client =
        HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
  }

  /**
   * Listens on {@code address} (port 0 picks one) and merges {@code envoyStats} with {@code
   * appMetrics} when given.
   *
   * @throws UncheckedIOException naming the address when it cannot be bound
   */
  public static MergedMetricsServer start(
      InetSocketAddress address, URI envoyStats, Optional<URI> appMetrics) {
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen for merged metrics on " + address + ": " + e, e);
    }
    MergedMetricsServer m = new MergedMetricsServer(server, envoyStats, appMetrics);
    server.setExecutor(m.executor);
    server.createContext(PATH, m::scrape);
    server.start();
    LOG.log(
        Level.INFO,
        "event=merged_metrics_started address={0} envoy={1} app={2}",
        server.getAddress(),
        envoyStats,
        appMetrics.map(URI::toString).orElse("-"));
    return m;
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void scrape(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals(PATH)) {
        reply(exchange, 404, "not found\n");
        return;
      }
      scrapes.incrementAndGet();
      StringBuilder out = new StringBuilder();
      Optional<String> proxy = fetch(envoy);
      if (proxy.isEmpty()) {
        envoyFailures.incrementAndGet();
        reply(exchange, 503, "failed to scrape the proxy's metrics at " + envoy + "\n");
        return;
      }
      append(out, proxy.get());
      if (app.isPresent()) {
        Optional<String> a = fetch(app.get());
        if (a.isPresent()) {
          append(out, a.get());
        } else {
          appFailures.incrementAndGet();
        }
      }
      out.append("# TYPE istio_agent_scrapes_total counter\n")
          .append("istio_agent_scrapes_total ")
          .append(scrapes.get())
          .append('\n')
          .append("# TYPE istio_agent_scrape_failures_total counter\n")
          .append("istio_agent_scrape_failures_total{type=\"envoy\"} ")
          .append(envoyFailures.get())
          .append('\n')
          .append("istio_agent_scrape_failures_total{type=\"application\"} ")
          .append(appFailures.get())
          .append('\n');
      reply(exchange, 200, out.toString());
    }
  }

  private static void append(StringBuilder out, String text) {
    out.append(text);
    if (!text.isEmpty() && !text.endsWith("\n")) {
      out.append('\n');
    }
  }

  private Optional<String> fetch(URI uri) {
    try {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Stops listening at once. */
  @Override
  public void close() {
    server.stop(0);
    executor.close();
    client.close();
  }
}
