package dev.bowline.bench.controlplane;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The benchmark's driver and client process: starts {@link BenchControlPlane} in its own JVM, then
 * connects {@code PROXIES} simulated proxies (half SotW, half delta; each subscribes CDS wildcard,
 * then EDS for every cluster, and ACKs everything), and measures: time to first full sync of all,
 * retained control-plane heap per proxy, endpoint change to receipt by every watching proxy (P50,
 * P99, max over {@code CHANGES} changes), and a reconnect of all at once to full sync. Prints a
 * table.
 *
 * <p>Arguments: {@code SERVICES ENDPOINTS PROXIES CHANGES}.
 */
public final class XdsLoad {
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  private static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  private static final int STREAMS_PER_CHANNEL = 100;

  private XdsLoad() {}

  static long wallMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
  }

  /** One simulated proxy; gRPC runs its callbacks one at a time. */
  abstract static class Sim {
    final String id;
    final List<String> clusters;
    volatile long fullSyncNanos;
    final AtomicLong lastEdsMicros = new AtomicLong();
    int edsSeen;

    Sim(String id, List<String> clusters) {
      this.id = id;
      this.clusters = clusters;
    }

    Node node() {
      return Node.newBuilder()
          .setId(id)
          .setMetadata(
              Struct.newBuilder()
                  .putFields("NAMESPACE", Value.newBuilder().setStringValue("bench").build()))
          .build();
    }

    abstract void start(ManagedChannel ch);

    void edsReceived(int count) {
      lastEdsMicros.set(wallMicros());
      edsSeen += count;
      if (fullSyncNanos == 0 && edsSeen >= clusters.size()) {
        fullSyncNanos = System.nanoTime();
      }
    }
  }

  static final class SotwSim extends Sim implements StreamObserver<DiscoveryResponse> {
    StreamObserver<DiscoveryRequest> out;
    boolean edsRequested;

    SotwSim(String id, List<String> clusters) {
      super(id, clusters);
    }

    @Override
    void start(ManagedChannel ch) {
      out = AggregatedDiscoveryServiceGrpc.newStub(ch).streamAggregatedResources(this);
      out.onNext(DiscoveryRequest.newBuilder().setNode(node()).setTypeUrl(CDS).build());
    }

    @Override
    public void onNext(DiscoveryResponse r) {
      boolean eds = r.getTypeUrl().equals(EDS);
      if (eds) {
        edsReceived(r.getResourcesCount());
      }
      out.onNext(
          DiscoveryRequest.newBuilder()
              .setTypeUrl(r.getTypeUrl())
              .setVersionInfo(r.getVersionInfo())
              .setResponseNonce(r.getNonce())
              .addAllResourceNames(eds ? clusters : List.of())
              .build());
      if (!eds && !edsRequested) {
        edsRequested = true;
        out.onNext(
            DiscoveryRequest.newBuilder().setTypeUrl(EDS).addAllResourceNames(clusters).build());
      }
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  static final class DeltaSim extends Sim implements StreamObserver<DeltaDiscoveryResponse> {
    StreamObserver<DeltaDiscoveryRequest> out;
    boolean edsRequested;

    DeltaSim(String id, List<String> clusters) {
      super(id, clusters);
    }

    @Override
    void start(ManagedChannel ch) {
      out = AggregatedDiscoveryServiceGrpc.newStub(ch).deltaAggregatedResources(this);
      out.onNext(DeltaDiscoveryRequest.newBuilder().setNode(node()).setTypeUrl(CDS).build());
    }

    @Override
    public void onNext(DeltaDiscoveryResponse r) {
      boolean eds = r.getTypeUrl().equals(EDS);
      if (eds) {
        edsReceived(r.getResourcesCount());
      }
      out.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(r.getTypeUrl())
              .setResponseNonce(r.getNonce())
              .build());
      if (!eds && !edsRequested) {
        edsRequested = true;
        out.onNext(
            DeltaDiscoveryRequest.newBuilder()
                .setTypeUrl(EDS)
                .addAllResourceNamesSubscribe(clusters)
                .build());
      }
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  record Fleet(List<Sim> sims, List<ManagedChannel> channels) {}

  static Fleet connect(
      int xdsPort,
      int proxies,
      List<String> clusters,
      ExecutorService executor,
      String generation) {
    List<ManagedChannel> channels = new ArrayList<>();
    List<Sim> sims = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      if (i % STREAMS_PER_CHANNEL == 0) {
        channels.add(
            NettyChannelBuilder.forAddress("127.0.0.1", xdsPort)
                .usePlaintext()
                .executor(executor)
                .maxInboundMessageSize(256 << 20)
                .build());
      }
      String id =
          "sidecar~127.9."
              + (i / 256)
              + "."
              + (i % 256)
              + "~proxy-"
              + generation
              + i
              + ".bench~bench.svc.cluster.local";
      Sim s = i % 2 == 0 ? new SotwSim(id, clusters) : new DeltaSim(id, clusters);
      sims.add(s);
      s.start(channels.getLast());
    }
    return new Fleet(sims, channels);
  }

  static boolean await(BooleanSupplier done, long timeoutSeconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < end) {
      if (done.getAsBoolean()) {
        return true;
      }
      Thread.sleep(5);
    }
    return done.getAsBoolean();
  }

  public static void main(String[] args) throws Exception {
    int services = Integer.parseInt(args[0]);
    int endpoints = Integer.parseInt(args[1]);
    int proxies = Integer.parseInt(args[2]);
    int changes = Integer.parseInt(args[3]);
    String logFile = args.length > 4 ? args[4] : "bench-controlplane.log";
    List<String> clusters = new ArrayList<>();
    for (int s = 0; s < services; s++) {
      clusters.add("outbound|8080||svc-" + s + ".bench.svc.cluster.local");
    }

    String javaBin = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(
            List.of(
                javaBin,
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow"));
    // Extra control-plane JVM options, e.g. -XX:StartFlightRecording=filename=cp.jfr to profile it.
    String extra = System.getenv().getOrDefault("BENCH_CP_JAVA_OPTS", "").trim();
    if (!extra.isEmpty()) {
      command.addAll(List.of(extra.split("\\s+")));
    }
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            BenchControlPlane.class.getName(),
            Integer.toString(services),
            Integer.toString(endpoints)));
    Process cpProcess = new ProcessBuilder(command).redirectError(new File(logFile)).start();
    BufferedReader cpOut =
        new BufferedReader(
            new InputStreamReader(cpProcess.getInputStream(), StandardCharsets.UTF_8));
    PrintWriter cpIn = new PrintWriter(cpProcess.getOutputStream(), true, StandardCharsets.UTF_8);
    String line = cpOut.readLine();
    while (line != null && !line.startsWith("ready ")) {
      line = cpOut.readLine(); // the JVM may print first (e.g. "Started recording")
    }
    if (line == null) {
      throw new IllegalStateException("the control-plane process ended; see " + logFile);
    }
    String[] ready = line.split(" ");
    int xdsPort = Integer.parseInt(ready[1]);
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      cpIn.println("heap");
      long heapBefore = Long.parseLong(cpOut.readLine().split(" ")[1]);

      ProcessHandle cpHandle = cpProcess.toHandle();
      double cpu0 = cpuSeconds(cpHandle);
      double own0 = cpuSeconds(ProcessHandle.current());
      long t0 = System.nanoTime();
      Fleet fleet = connect(xdsPort, proxies, clusters, executor, "a");
      boolean synced = await(() -> fleet.sims().stream().allMatch(s -> s.fullSyncNanos != 0), 600);
      double firstSync =
          (fleet.sims().stream().mapToLong(s -> s.fullSyncNanos).max().orElse(t0) - t0) / 1e9;

      double cpuSync = cpuSeconds(cpHandle) - cpu0;
      double ownSync = cpuSeconds(ProcessHandle.current()) - own0;
      cpIn.println("heap");
      long heapAfter = Long.parseLong(cpOut.readLine().split(" ")[1]);

      List<Long> latencies = new ArrayList<>();
      int incomplete = 0;
      for (int c = 0; c < changes; c++) {
        Thread.sleep(300); // let the previous change settle (debounce is 100 ms)
        cpIn.println("change " + (c * 37 % services));
        long at = Long.parseLong(cpOut.readLine().split(" ")[2]);
        boolean all =
            await(() -> fleet.sims().stream().allMatch(s -> s.lastEdsMicros.get() >= at), 60);
        if (!all) {
          incomplete++;
        }
        for (Sim s : fleet.sims()) {
          long got = s.lastEdsMicros.get();
          if (got >= at) {
            latencies.add(got - at);
          }
        }
      }
      long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();

      // Reconnect storm: every stream drops at once, every proxy comes back at once.
      for (ManagedChannel ch : fleet.channels()) {
        ch.shutdownNow();
      }
      await(
          () -> {
            cpIn.println("conns");
            try {
              return cpOut.readLine().equals("conns 0");
            } catch (java.io.IOException e) {
              return false;
            }
          },
          60);
      double cpu1 = cpuSeconds(cpHandle);
      long t1 = System.nanoTime();
      Fleet again = connect(xdsPort, proxies, clusters, executor, "b");
      boolean resynced =
          await(() -> again.sims().stream().allMatch(s -> s.fullSyncNanos != 0), 600);
      double reconnect =
          (again.sims().stream().mapToLong(s -> s.fullSyncNanos).max().orElse(t1) - t1) / 1e9;
      double cpuReconnect = cpuSeconds(cpHandle) - cpu1;
      for (ManagedChannel ch : again.channels()) {
        ch.shutdownNow();
      }

      System.out.printf(
          "%nBowline control plane, %d services x %d endpoints, %d proxies (%d SotW, %d delta), one process each side%n",
          services, endpoints, proxies, (proxies + 1) / 2, proxies / 2);
      System.out.printf("%-58s %14s  %s%n", "measure", "value", "target (issue #5)");
      System.out.printf(
          "%-58s %12.2f s  %s%n",
          "first full sync of all proxies (CDS + all EDS)",
          firstSync,
          synced ? "" : "(NOT ALL SYNCED)");
      System.out.printf(
          "%-58s %12.1f ms  <= 1000 ms%n",
          "endpoint change -> received by every watcher, P50", pct(sorted, 0.50) / 1000.0);
      System.out.printf(
          "%-58s %12.1f ms  <= 1000 ms%n",
          "endpoint change -> received by every watcher, P99", pct(sorted, 0.99) / 1000.0);
      System.out.printf(
          "%-58s %12.1f ms%n",
          "endpoint change -> received by every watcher, max",
          (sorted.length == 0 ? 0 : sorted[sorted.length - 1]) / 1000.0);
      System.out.printf(
          "%-58s %12d%n", "  (changes x proxies measured; changes not seen by all)", sorted.length);
      System.out.printf(
          "%-58s %12d%n", "  changes not received by every proxy within 60 s", incomplete);
      System.out.printf(
          "%-58s %12.3f MB  <= 0.5 MB%n",
          "retained control-plane heap per connected proxy",
          (heapAfter - heapBefore) / (double) proxies / 1e6);
      System.out.printf(
          "%-58s %12.2f s  <= 10 s %s%n",
          "reconnect of all at once -> full sync", reconnect, resynced ? "" : "(NOT ALL SYNCED)");
      System.out.printf(
          "%-58s %12s%n", "  per-proxy first sync P50 / P99", syncPercentiles(fleet, t0));
      System.out.printf(
          "%-58s %12s%n", "  per-proxy reconnect sync P50 / P99", syncPercentiles(again, t1));
      System.out.printf("%-58s %12.1f s%n", "  control-plane CPU during first sync", cpuSync);
      System.out.printf("%-58s %12.1f s%n", "  client-process CPU during first sync", ownSync);
      System.out.printf("%-58s %12.1f s%n", "  control-plane CPU during reconnect", cpuReconnect);
      System.out.printf(
          "%-58s %12s%n",
          "  load average (1 min) at the end",
          String.format(
              "%.1f",
              java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                  .getSystemLoadAverage()));
      System.out.println("Peer (istiod) figures: not measured here (no istiod on this machine).");
    } finally {
      cpIn.println("quit");
      cpProcess.waitFor(10, TimeUnit.SECONDS);
      cpProcess.destroy();
      executor.shutdownNow();
    }
  }

  static String syncPercentiles(Fleet fleet, long start) {
    long[] t = fleet.sims().stream().mapToLong(s -> s.fullSyncNanos - start).sorted().toArray();
    return String.format("%.2f / %.2f s", pct(t, 0.5) / 1e9, pct(t, 0.99) / 1e9);
  }

  static double cpuSeconds(ProcessHandle p) {
    return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
  }

  static long pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }
}
