package dev.bowline.bench.telemetry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@link ObservabilityBenchmark}'s operations timed in CPU time of the measuring thread rather than
 * wall-clock time: on a machine shared with other work JMH's {@code ns/op} counts the time the
 * thread waited for a core, this does not (cache misses caused by the neighbours still count). The
 * median of seven one-second batches after two seconds of warm-up, per operation. Run two builds
 * alternately to compare them in one window:
 *
 * <pre>java -cp bench/target/classes:$(cat bench/target/classpath.txt) \
 *   dev.bowline.bench.telemetry.ObservabilityCpu [operation...]</pre>
 */
public final class ObservabilityCpu {
  private ObservabilityCpu() {}

  public static void main(String[] args) throws Exception {
    ObservabilityBenchmark b = new ObservabilityBenchmark();
    b.setup();
    StatsFilterBenchmark stats = new StatsFilterBenchmark();
    stats.setup();
    Map<String, Supplier<Object>> ops = new LinkedHashMap<>();
    ops.put("tracingUnsampled", b::tracingUnsampled);
    ops.put("tracingSampled", b::tracingSampled);
    ops.put("metadataExchangeInbound", b::metadataExchangeInbound);
    ops.put("accessLogLine", b::accessLogLine);
    ops.put(
        "statsRecordOk",
        () -> {
          stats.recordOk();
          return stats;
        });
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (var e : ops.entrySet()) {
      if (args.length > 0 && !Arrays.asList(args).contains(e.getKey())) {
        continue;
      }
      Supplier<Object> op = e.getValue();
      run(op, mx, 2_000_000_000L);
      double[] perOp = new double[7];
      for (int i = 0; i < perOp.length; i++) {
        perOp[i] = run(op, mx, 1_000_000_000L);
      }
      Arrays.sort(perOp);
      System.out.printf(
          "%-26s %8.1f cpu-ns/op (batches %.1f .. %.1f)%n",
          e.getKey(), perOp[perOp.length / 2], perOp[0], perOp[perOp.length - 1]);
    }
    b.tearDown();
  }

  private static int sink;

  /** Runs {@code op} for about {@code wallNanos}; returns thread CPU nanoseconds per operation. */
  private static double run(Supplier<Object> op, ThreadMXBean mx, long wallNanos) {
    long end = System.nanoTime() + wallNanos;
    long cpu0 = mx.getCurrentThreadCpuTime();
    long n = 0;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 1000; i++) {
        if (op.get() == null) {
          sink++;
        }
      }
      n += 1000;
    }
    return (mx.getCurrentThreadCpuTime() - cpu0) / (double) n;
  }
}
