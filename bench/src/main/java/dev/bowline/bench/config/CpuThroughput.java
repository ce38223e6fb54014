package dev.bowline.bench.config;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The {@link ParseValidateBenchmark} workloads measured in resources per CPU-second (of the
 * measuring thread, and of the whole process, GC and JIT included) rather than per wall-clock
 * second: on a shared machine (other builds running) this is what "on one core" means, and it does
 * not drift with the load average. Prints one line per workload.
 */
public final class CpuThroughput {
  private CpuThroughput() {}

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
    ParseValidateBenchmark b = new ParseValidateBenchmark();
    b.setup();
    Blackhole bh =
        new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    // Process CPU includes GC and JIT threads: the honest cost of the work on a core.
    var process =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    String[] names = {"parse", "parseAndValidate", "fabric8Parse"};
    for (String name : names) {
      for (int phase = 0; phase < 2; phase++) {
        // Phase 0 warms the JIT for as long as phase 1 measures.
        long cpuStart = threads.getCurrentThreadCpuTime();
        long processStart = process.getProcessCpuTime();
        long budget = (long) (seconds * 1e9);
        long invocations = 0;
        while (threads.getCurrentThreadCpuTime() - cpuStart < budget) {
          switch (name) {
            case "parse" -> bh.consume(b.parse());
            case "parseAndValidate" -> b.parseAndValidate(bh);
            default -> b.fabric8Parse(bh);
          }
          invocations++;
        }
        double cpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        double all = (process.getProcessCpuTime() - processStart) / 1e9;
        if (phase == 1) {
          long resources = invocations * ParseValidateBenchmark.RESOURCES;
          System.out.printf(
              "workload=%s resources_per_thread_cpu_second=%.0f resources_per_process_cpu_second=%.0f"
                  + " thread_cpu_seconds=%.1f process_cpu_seconds=%.1f%n",
              name, resources / cpu, resources / all, cpu, all);
        }
      }
    }
    bh.evaporate("Yes, I am Stephen Hawking, and know a thing or two about black holes.");
  }
}
