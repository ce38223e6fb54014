package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A monotonically increasing count under an Envoy stat name. Increments are lock-free ({@link
 * LongAdder}) so every event loop can count without contention.
 *
 * @param name Envoy's dotted name, e.g. {@code cluster.backend.upstream_rq_total}
 * @param promName the Prometheus family, e.g. {@code envoy_cluster_upstream_rq_total}
 * @param tags Prometheus labels extracted from the dotted name, as Envoy's tag extractors do
 */
public record Counter(String name, String promName, Map<String, String> tags, LongAdder adder) {
  public void inc() {
    adder.increment();
  }

  public long value() {
    return adder.sum();
  }
}
