package dev.bowline.bench.controlplane;

import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.RegistryFile;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The control-plane process of the benchmark: {@code SERVICES} services of {@code ENDPOINTS}
 * endpoints each (addresses are data only, nothing is sent to them), then commands on stdin, one
 * answer line each on stdout:
 *
 * <pre>
 * change I   -> changed I MICROS   moves one endpoint of service I; MICROS = wall clock of the change
 * add I      -> added I            adds service I (a new index) with ENDPOINTS endpoints: every
 *                                  sidecar gets a full CDS/RDS push (bench/proxy/pushcpu.sh)
 * remove I   -> removed I          removes service I and its endpoints again
 * heap       -> heap BYTES         heap used after two full GCs
 * conns      -> conns N            connected streams
 * quit
 * </pre>
 */
public final class BenchControlPlane {
  private BenchControlPlane() {}

  static String address(int service, int endpoint) {
    int n = service * 100 + endpoint;
    return "127." + (1 + n / 65536) + "." + (n / 256 % 256) + "." + (n % 256);
  }

  public static void main(String[] args) throws Exception {
    int services = Integer.parseInt(args[0]);
    int endpoints = Integer.parseInt(args[1]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    LocalRegistry registry = new LocalRegistry("cluster.local");
    List<LocalService> svc = new java.util.ArrayList<>();
    List<Workload> wl = new java.util.ArrayList<>();
    for (int s = 0; s < services; s++) {
      svc.add(service(s));
      for (int e = 0; e < endpoints; e++) {
        wl.add(workload(s, e, address(s, e)));
      }
    }
    registry.replaceAll(new RegistryFile.Contents(svc, wl));
    try (ControlPlane cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS.withPorts(0, 0),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC())) {
      cp.start();
      out.println("ready " + cp.xdsPort() + " " + cp.monitoringPort());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      int moves = 0;
      for (String line; (line = in.readLine()) != null; ) {
        String[] cmd = line.trim().split(" ");
        switch (cmd[0]) {
          case "change" -> {
            int s = Integer.parseInt(cmd[1]);
            moves++;
            Instant now = Instant.now();
            registry.putWorkload(
                workload(s, 0, "127.250." + (moves / 256 % 256) + "." + (moves % 256)));
            out.println(
                "changed " + s + " " + (now.getEpochSecond() * 1_000_000 + now.getNano() / 1000));
          }
          case "add" -> {
            int s = Integer.parseInt(cmd[1]);
            registry.putService(service(s));
            for (int e = 0; e < endpoints; e++) {
              registry.putWorkload(workload(s, e, address(s, e)));
            }
            out.println("added " + s);
          }
          case "remove" -> {
            int s = Integer.parseInt(cmd[1]);
            for (int e = 0; e < endpoints; e++) {
              registry.removeWorkload("bench", "svc-" + s + "-" + e);
            }
            registry.removeService("bench", "svc-" + s);
            out.println("removed " + s);
          }
          case "heap" -> {
            System.gc();
            Thread.sleep(200);
            System.gc();
            Thread.sleep(200);
            out.println(
                "heap " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
          }
          case "conns" -> out.println("conns " + cp.xds().connectionCount());
          case "quit" -> {
            return;
          }
          default -> out.println("error unknown command " + cmd[0]);
        }
      }
    }
  }

  private static LocalService service(int s) {
    return new LocalService(
        "bench",
        "svc-" + s,
        List.of(new ServicePort("grpc", 8080, Protocol.GRPC, 8080)),
        Map.of(),
        Map.of());
  }

  private static Workload workload(int s, int e, String address) {
    return new Workload(
        "bench",
        "svc-" + s + "-" + e,
        Map.of("app", "svc-" + s),
        address,
        Map.of(),
        "default",
        new Locality("local", "zone-" + (e % 3), ""),
        "",
        HealthStatus.HEALTHY);
  }
}
