package dev.bowline.ca;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The benchmark thread's CPU time, reported by JMH as {@code <benchmark>:cpuNanos} in CPU
 * nanoseconds per wall-clock second (an "operations" counter is normalised like the score).
 * Dividing the score by {@code cpuNanos / 1e9} gives operations per CPU-second: the rate per core
 * even when other processes share the cores, and the divisor {@code openssl speed} uses (user CPU
 * time unless {@code -elapsed}).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class CpuTime {
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private long start;

  /** CPU nanoseconds this thread spent since the iteration began. */
  public long cpuNanos;

  @Setup(Level.Iteration)
  public void begin() {
    cpuNanos = 0;
    start = threads.getCurrentThreadCpuTime();
  }

  /** Called after each operation: one clock read (~0.3 µs, under 1% of any op measured here). */
  void mark() {
    cpuNanos = threads.getCurrentThreadCpuTime() - start;
  }
}
