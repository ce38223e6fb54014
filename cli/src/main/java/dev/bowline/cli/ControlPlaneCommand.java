package dev.bowline.cli;

import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.dashboard.DashboardOptions;
import dev.bowline.controlplane.dashboard.MeshDashboard;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import dev.bowline.controlplane.registry.RegistryFileWatcher;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline control-plane}: runs the xDS server (like istiod's discovery service) over the
 * local registry file until stopped (SIGINT/SIGTERM).
 */
@Command(
    name = "control-plane",
    mixinStandardHelpOptions = true,
    description = {
      "Run the control plane: service registry, xDS server (SotW and delta ADS), debug/metrics HTTP.",
      "Serves Envoy proxies and proxyless gRPC clients (GENERATOR=grpc) until stopped."
    })
final class ControlPlaneCommand implements Callable<Integer> {
  private static final String LOG_FORMAT = "java.util.logging.SimpleFormatter.format";

  @Spec CommandSpec spec;

  @Option(
      names = "--registry",
      paramLabel = "FILE",
      description = "Local registry YAML (services and workloads); reloaded when it changes.")
  @Nullable Path registryFile;

  @Option(
      names = "--config-dir",
      paramLabel = "DIR",
      description =
          "Directory of Istio YAML (VirtualService, DestinationRule, Sidecar...); watched, repeatable.")
  java.util.List<Path> configDirs = new java.util.ArrayList<>();

  @Option(
      names = "--mesh-config",
      paramLabel = "FILE",
      description = {
        "MeshConfig (istiod's --meshConfig: a mesh.yaml, or the istio ConfigMap with data.mesh);"
            + " watched. Without it, mesh.yaml at the top of a --config-dir is read."
      })
  @Nullable Path meshConfigFile;

  @Option(
      names = "--address",
      defaultValue = "127.0.0.1",
      description = "Address to bind (default: ${DEFAULT-VALUE}).")
  String address = "127.0.0.1";

  @Option(
      names = "--xds-port",
      defaultValue = "15010",
      description = "ADS port (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int xdsPort = 15010;

  @Option(
      names = "--monitoring-port",
      defaultValue = "15014",
      description = "Debug and metrics HTTP port (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int monitoringPort = 15014;

  @Option(
      names = "--debounce-after",
      defaultValue = "100ms",
      converter = DurationConverter.class,
      description = "Push after this long without changes (default: ${DEFAULT-VALUE}).")
  Duration debounceAfter = Duration.ofMillis(100);

  @Option(
      names = "--debounce-max",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "Push at the latest this long after the first change (default: ${DEFAULT-VALUE}).")
  Duration debounceMax = Duration.ofSeconds(10);

  @Option(
      names = "--push-concurrency",
      defaultValue = "100",
      description = "Proxies pushed at once (default: ${DEFAULT-VALUE}).")
  int pushConcurrency = 100;

  @Option(
      names = "--otlp-port",
      defaultValue = "4317",
      description =
          "OTLP/gRPC trace receiver port on --address (default: ${DEFAULT-VALUE}; 0 picks a free port, -1 turns it off). OTLP/HTTP is POST /v1/traces on the monitoring port; traces are served at /api/traces.")
  int otlpPort = 4317;

  @Option(
      names = "--domain",
      defaultValue = "cluster.local",
      description = "Cluster DNS domain (default: ${DEFAULT-VALUE}).")
  String domain = "cluster.local";

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (System.getProperty(LOG_FORMAT) == null) {
      // One line per event (JUL's default takes two).
      System.setProperty(LOG_FORMAT, "%1$tFT%1$tT.%1$tLZ %4$s %3$s %5$s%6$s%n");
    }
    ControlPlaneOptions options =
        new ControlPlaneOptions(
            address, xdsPort, monitoringPort, debounceAfter, debounceMax, pushConcurrency, domain);
    LocalRegistry registry = new LocalRegistry(domain);
    RegistryFileWatcher watcher = null;
    if (registryFile != null) {
      try {
        watcher = RegistryFileWatcher.start(registryFile, registry);
      } catch (RegistryFile.InvalidRegistryException e) {
        err.println("bowline control-plane: invalid registry file:");
        e.errors().forEach(line -> err.println("  " + line));
        return 1;
      } catch (java.io.IOException e) {
        err.println("bowline control-plane: cannot read " + registryFile + ": " + e);
        return 1;
      }
    }
    ControlPlane cp = new ControlPlane(options, registry, ConfigInputs.NONE, Clock.systemUTC());
    // Always fed, so that bowline apply/delete (POST /config/apply) work without a directory too.
    ConfigFeed feed = null;
    {
      try {
        feed = ConfigFeed.start(cp, configDirs, meshConfigFile, Clock.systemUTC());
      } catch (java.io.IOException e) {
        err.println("bowline control-plane: cannot watch config: " + e.getMessage());
        cp.close();
        if (watcher != null) {
          watcher.close();
        }
        return 1;
      }
    }
    if (!feed.initialMeshConfigErrors().isEmpty()) {
      // As istiod: a mesh config that does not read is fatal at start (later, the last good one
      // stays in force).
      err.println("bowline control-plane: invalid MeshConfig:");
      feed.initialMeshConfigErrors().forEach(m -> err.println("  " + m));
      feed.close();
      cp.close();
      if (watcher != null) {
        watcher.close();
      }
      return 1;
    }
    // The mesh dashboard on the same port: /dashboard/ and its /api/ (decision 0020).
    ConfigFeed configFeed = feed;
    MeshDashboard dashboard =
        MeshDashboard.start(
            cp, () -> configFeed.store().snapshot(), DashboardOptions.DEFAULTS, Clock.systemUTC());
    try {
      cp.start();
    } catch (java.io.IOException e) {
      err.println("bowline control-plane: cannot listen on " + address + ": " + e.getMessage());
      dashboard.close();
      if (feed != null) {
        feed.close();
      }
      cp.close();
      return 1;
    }
    // The control plane's own trace collector (the dashboard reads /api/traces).
    var traces =
        new dev.bowline.controlplane.traces.TraceReceiver(
            new dev.bowline.controlplane.traces.TraceStore(1000, 1000));
    cp.addDebugHandler("/v1/traces", traces::otlpHttp);
    cp.addDebugHandler("/api/traces", traces::api);
    cp.addDebugEndpoint("/debug/tracez", traces::status);
    int otlp = -1;
    if (otlpPort >= 0) {
      try {
        otlp = traces.startGrpc(new java.net.InetSocketAddress(address, otlpPort));
      } catch (java.io.IOException e) {
        err.println(
            "bowline control-plane: OTLP receiver cannot listen on "
                + address
                + ":"
                + otlpPort
                + " ("
                + e.getMessage()
                + "); traces only over POST /v1/traces");
      }
    }
    out.println("xds: " + address + ":" + cp.xdsPort());
    out.println("monitoring: http://" + address + ":" + cp.monitoringPort() + "/debug/syncz");
    out.println(
        "registry: "
            + registry.snapshot().services().size()
            + " services"
            + (registryFile == null ? "" : " from " + registryFile));
    if (feed != null) {
      var status = feed.store().status();
      out.println(
          "config: "
              + status.total()
              + " resources, "
              + status.rejections().size()
              + " refused, from "
              + configDirs
              + " (http://"
              + address
              + ":"
              + cp.monitoringPort()
              + "/debug/configz)");
    }
    out.println("dashboard: http://" + address + ":" + cp.monitoringPort() + "/dashboard/");
    // after the lines scripts read by position (xds, monitoring, registry, config)
    if (otlp > 0) {
      out.println(
          "otlp: "
              + address
              + ":"
              + otlp
              + " (traces: http://"
              + address
              + ":"
              + cp.monitoringPort()
              + "/api/traces)");
    }
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    RegistryFileWatcher w = watcher;
    ConfigFeed f = feed;
    Thread hook =
        new Thread(
            () -> {
              dashboard.close();
              if (f != null) {
                f.close();
              }
              traces.close();
              cp.close();
              if (w != null) {
                w.close();
              }
              stopped.countDown();
            },
            "control-plane-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    stopped.await();
    return 0;
  }

  /** Parses {@code 100ms}, {@code 10s}, {@code 2m} or an ISO-8601 duration. */
  static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim();
      try {
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        if (v.endsWith("s")) {
          return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        if (v.endsWith("m")) {
          return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        return Duration.parse(v);
      } catch (RuntimeException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "'" + value + "' is not a duration (like 100ms, 10s, 2m)");
      }
    }
  }
}
