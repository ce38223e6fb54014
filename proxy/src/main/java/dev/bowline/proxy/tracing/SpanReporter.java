package dev.bowline.proxy.tracing;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.stats.Stats;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Sends finished spans to their collectors from one background thread per proxy, so event loops
 * never wait on a collector: a span is appended to a lock-free queue (bounded: beyond {@code
 * maxQueued} spans are dropped and counted, never blocking a request); the thread takes batches (up
 * to {@code batchSize}, at least every {@code flushMillis}), groups them by provider and service,
 * resolves the provider's collector cluster to a host from the proxy's current config, and exports
 * them (OTLP/gRPC, OTLP/HTTP protobuf, Zipkin JSON v2). The thread starts with the first span:
 * proxies that trace nothing have none. Counters follow Envoy's tracer stats: {@code
 * tracing.<opentelemetry|zipkin>.spans_sent}, {@code reports_dropped}, {@code reports_failed},
 * {@code reports_skipped_no_cluster}.
 */
public final class SpanReporter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SpanReporter.class.getName());

  private record Pending(HttpTracer tracer, Span span) {}

  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Supplier<ProxySnapshot> snapshot;
  private final long maxQueued;
  private final int batchSize;
  private final long flushNanos;
  private final Thread thread;
  private final Exporters exporters;
  private final Map<String, Counter[]> counters = new java.util.concurrent.ConcurrentHashMap<>();
  private final Stats stats;

  /**
   * A reporter reading clusters from {@code snapshot}.
   *
   * @param maxQueued spans waiting at most; more are dropped
   * @param batchSize spans per export at most
   * @param flushMillis the longest a span waits for its batch
   */
  public SpanReporter(
      Supplier<ProxySnapshot> snapshot,
      Stats stats,
      long maxQueued,
      int batchSize,
      long flushMillis) {
    this.snapshot = snapshot;
    this.stats = stats;
    this.maxQueued = maxQueued;
    this.batchSize = batchSize;
    this.flushNanos = TimeUnit.MILLISECONDS.toNanos(flushMillis);
    this.exporters = new Exporters();
    this.thread = Thread.ofPlatform().name("bowline-span-export").daemon().unstarted(this::run);
  }

  /** Where collector clusters with a TLS transport socket get their contexts; set once at start. */
  private volatile dev.bowline.proxy.tls.@Nullable TlsContexts tls;

  /**
   * Lets exports to collector clusters with a TLS {@code transport_socket} use {@code contexts}
   * (the proxy's, so SDS certificates apply); without it such exports fail and are counted.
   */
  public void useTls(dev.bowline.proxy.tls.TlsContexts contexts) {
    this.tls = java.util.Objects.requireNonNull(contexts, "contexts");
  }

  /** Queues a finished span; never blocks. */
  void report(HttpTracer tracer, Span span) {
    if (closed.get() || queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      counter(tracer.config().provider(), 1).inc();
      return;
    }
    queue.add(new Pending(tracer, span));
    if (!started.get() && started.compareAndSet(false, true)) {
      thread.start();
    }
  }

  /** Spans dropped (queue full, closed, no cluster, failed export) across providers. */
  public long dropped() {
    long n = 0;
    for (Counter[] c : counters.values()) {
      n += c[1].value() + c[2].value() + c[3].value();
    }
    return n;
  }

  /** Spans sent across providers. */
  public long sent() {
    long n = 0;
    for (Counter[] c : counters.values()) {
      n += c[0].value();
    }
    return n;
  }

  /** 0 spans_sent, 1 reports_dropped, 2 reports_failed, 3 reports_skipped_no_cluster. */
  private Counter counter(TracingConfig.Provider p, int which) {
    String kind = p instanceof TracingConfig.OpenTelemetry ? "opentelemetry" : "zipkin";
    return counters
        .computeIfAbsent(
            kind,
            k -> {
              String[] names = {
                "spans_sent", "reports_dropped", "reports_failed", "reports_skipped_no_cluster"
              };
              Counter[] cs = new Counter[names.length];
              for (int i = 0; i < names.length; i++) {
                cs[i] =
                    stats.counter(
                        "tracing." + k + "." + names[i],
                        "envoy_tracing_" + k + "_" + names[i],
                        Map.of());
              }
              return cs;
            })[which];
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    long lastFlush = System.nanoTime();
    while (true) {
      Pending p;
      while (batch.size() < batchSize && (p = queue.poll()) != null) {
        queued.decrementAndGet();
        batch.add(p);
      }
      long now = System.nanoTime();
      boolean stopping = closed.get();
      if (!batch.isEmpty()
          && (batch.size() >= batchSize || now - lastFlush >= flushNanos || stopping)) {
        flush(batch);
        batch.clear();
        lastFlush = now;
        continue;
      }
      if (stopping && queue.isEmpty()) {
        exporters.close();
        return;
      }
      LockSupport.parkNanos(Math.min(flushNanos, TimeUnit.MILLISECONDS.toNanos(50)));
    }
  }

  /** Exports {@code batch}, one request per (provider, service). */
  private void flush(List<Pending> batch) {
    Map<TracingConfig.Provider, Map<String, List<Span>>> groups = new LinkedHashMap<>();
    for (Pending p : batch) {
      groups
          .computeIfAbsent(p.tracer().config().provider(), k -> new LinkedHashMap<>())
          .computeIfAbsent(p.tracer().serviceName(), k -> new ArrayList<>())
          .add(p.span());
    }
    for (var g : groups.entrySet()) {
      TracingConfig.Provider provider = g.getKey();
      int n = g.getValue().values().stream().mapToInt(List::size).sum();
      Target target = target(provider.cluster());
      if (target == null) {
        counter(provider, 3).adder().add(n);
        LOG.log(
            Level.DEBUG, "event=span_export_skipped cluster={0} spans={1}", provider.cluster(), n);
        continue;
      }
      try {
        exporters.export(provider, target.host(), target.tls(), tls, g.getValue());
        counter(provider, 0).adder().add(n);
      } catch (Exception e) {
        counter(provider, 2).adder().add(n);
        LOG.log(
            Level.DEBUG,
            "event=span_export_failed cluster={0} host={1} spans={2} error={3}",
            provider.cluster(),
            target.host(),
            n,
            e.toString());
      }
    }
  }

  /** A collector host and the TLS its cluster uses towards it (null: plaintext). */
  private record Target(SocketAddr host, dev.bowline.proxy.tls.@Nullable UpstreamTls tls) {}

  /** A host of {@code cluster} from the current config, or null when it has none. */
  private @Nullable Target target(String cluster) {
    ProxySnapshot s = snapshot.get();
    ClusterConfig c = s.clusters().get(cluster);
    if (c == null) {
      return null;
    }
    Endpoints e = s.endpointsOf(c).orElse(null);
    if (e == null || e.endpoints().isEmpty()) {
      return null;
    }
    Endpoints.Endpoint first = e.endpoints().getFirst();
    return new Target(first.address(), c.transport().forEndpoint(first.socketMatch()).orElse(null));
  }

  /** Stops after sending what is queued (waits at most {@code 2 s}). */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && started.get()) {
      LockSupport.unpark(thread);
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
