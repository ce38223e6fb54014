package dev.bowline.controlplane.dashboard;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Scrapes every known proxy's {@code /stats/prometheus} on its own thread, every {@link
 * DashboardOptions#scrapeInterval()}, and publishes an immutable {@link TrafficGraph} after each
 * round; readers (the dashboard's HTTP handlers) only read the last one. Nothing here runs on the
 * xDS or request paths.
 */
final class MeshScraper implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshScraper.class.getName());

  /** A proxy to scrape. */
  record Target(String proxyId, URI url) {}

  /** The last outcome of scraping one target. */
  record TargetStatus(
      String proxyId,
      URI url,
      @Nullable Instant lastOk,
      @Nullable String error,
      int series,
      int bytes,
      double millis) {}

  private final Supplier<List<Target>> targets;
  private final DashboardOptions options;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final MetricsWindow window;
  private final ExecutorService httpExecutor =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("dashboard-scrape-", 0).factory());
  private final HttpClient http;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("dashboard-scraper").factory());
  private final AtomicReference<TrafficGraph> graph;
  private final AtomicReference<List<TargetStatus>> statuses = new AtomicReference<>(List.of());
  private final Map<String, TargetStatus> status = new LinkedHashMap<>();

  MeshScraper(
      Supplier<List<Target>> targets,
      DashboardOptions options,
      Clock clock,
      LongSupplier nanoTime) {
    this.targets = Objects.requireNonNull(targets, "targets");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.window = new MetricsWindow(options.window());
    this.graph = new AtomicReference<>(TrafficGraph.empty(clock.instant(), options.window()));
    this.http =
        HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(options.scrapeTimeout())
            .executor(httpExecutor)
            .build();
  }

  /** Scrapes now and then every interval until closed. */
  void start() {
    long every = options.scrapeInterval().toMillis();
    timer.scheduleWithFixedDelay(this::scrapeQuietly, 0, every, TimeUnit.MILLISECONDS);
  }

  /** The graph after the last round. */
  TrafficGraph graph() {
    return graph.get();
  }

  /** Every target of the last round and how its scrape went. */
  List<TargetStatus> statuses() {
    return statuses.get();
  }

  private void scrapeQuietly() {
    try {
      scrapeOnce();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "event=dashboard_scrape_failed error=" + e);
    }
  }

  /** One round: every target in parallel, each within the scrape timeout; then a new graph. */
  synchronized void scrapeOnce() {
    List<Target> now = targets.get();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    long started = nanoTime.getAsLong();
    for (Target t : now) {
      calls.add(
          http.sendAsync(
              HttpRequest.newBuilder(t.url()).timeout(options.scrapeTimeout()).GET().build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    java.util.Set<String> live = new java.util.HashSet<>();
    for (int i = 0; i < now.size(); i++) {
      Target t = now.get(i);
      String key = t.url().toString();
      live.add(key);
      TargetStatus before = status.get(key);
      Instant lastOk = before == null ? null : before.lastOk();
      try {
        HttpResponse<String> r =
            calls.get(i).get(options.scrapeTimeout().toMillis() + 500, TimeUnit.MILLISECONDS);
        long at = nanoTime.getAsLong();
        if (r.statusCode() != 200) {
          status.put(
              key,
              new TargetStatus(
                  t.proxyId(), t.url(), lastOk, "HTTP " + r.statusCode(), 0, 0, millis(started)));
          continue;
        }
        List<PrometheusText.Sample> samples = PrometheusText.parse(r.body(), TrafficGraph::wanted);
        window.record(key, at, samples);
        status.put(
            key,
            new TargetStatus(
                t.proxyId(),
                t.url(),
                clock.instant(),
                null,
                samples.size(),
                r.body().length(),
                millis(started)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (PrometheusText.ParseException e) {
        status.put(
            key,
            new TargetStatus(t.proxyId(), t.url(), lastOk, e.getMessage(), 0, 0, millis(started)));
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        calls.get(i).cancel(true);
        Throwable cause = e.getCause() == null ? e : e.getCause();
        status.put(
            key,
            new TargetStatus(
                t.proxyId(),
                t.url(),
                lastOk,
                cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()),
                0,
                0,
                millis(started)));
      }
    }
    window.retain(live);
    status.keySet().retainAll(live);
    statuses.set(List.copyOf(status.values()));
    graph.set(
        TrafficGraph.of(window.totals(nanoTime.getAsLong()), clock.instant(), options.window()));
  }

  /** Milliseconds since {@code started} (answer, read and parse of one target, in a round). */
  private double millis(long started) {
    return Math.round((nanoTime.getAsLong() - started) / 1e4) / 100.0;
  }

  @Override
  public void close() {
    timer.shutdownNow();
    http.shutdownNow();
    httpExecutor.shutdownNow();
  }
}
