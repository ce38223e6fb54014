package dev.bowline.cli;

import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bowline proxy -c bootstrap.yaml}: runs the proxy from an Envoy v3 bootstrap. */
@Command(
    name = "proxy",
    description = "Run the proxy from an Envoy v3 bootstrap (YAML or JSON); SIGTERM drains.")
final class ProxyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-c", "--config-path"},
      required = true,
      description = "Envoy v3 bootstrap file, YAML or JSON (Envoy's -c).")
  Path config;

  @Option(
      names = "--concurrency",
      description = "Event loops (default: one per core, like Envoy's --concurrency).")
  int concurrency = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--drain-time-s",
      description = "Seconds to let connections finish on SIGTERM (default: ${DEFAULT-VALUE}).")
  int drainSeconds = 5;

  @Option(
      names = "--transport",
      description = "Netty transport: auto, epoll, io_uring, nio (default: ${DEFAULT-VALUE}).")
  String transport = "auto";

  @Option(
      names = "--merged-metrics",
      paramLabel = "IP:PORT",
      description =
          "Serve pilot-agent's merged metrics here (/stats/prometheus: the proxy's :15090 metrics"
              + " plus --app-metrics), e.g. 127.0.0.2:15020.")
  String mergedMetrics;

  @Option(
      names = "--app-metrics",
      paramLabel = "URL",
      description =
          "The app's Prometheus endpoint merged into --merged-metrics (Istio's"
              + " prometheus.io/port and /path).")
  java.net.URI appMetrics;

  @Option(
      names = "--check",
      description =
          "Only parse and validate the bootstrap, then exit (like Envoy's --mode validate).")
  boolean check;

  @Override
  public Integer call() throws InterruptedException {
    var err = spec.commandLine().getErr();
    ProxyOptions options;
    Proxy proxy;
    try {
      var bootstrap = new BootstrapLoader().load(config);
      if (check) {
        spec.commandLine().getOut().println(config + ": OK");
        return 0;
      }
      options =
          ProxyOptions.defaults()
              .withWorkers(concurrency)
              .withTransport(Transport.select(transport))
              .withDrainTime(Duration.ofSeconds(drainSeconds));
      proxy = Proxy.start(bootstrap, options);
    } catch (BootstrapException | IllegalArgumentException e) {
      err.println("bowline proxy: " + e.getMessage());
      return 1;
    }
    dev.bowline.agent.MergedMetricsServer merged = null;
    if (mergedMetrics != null) {
      int colon = mergedMetrics.lastIndexOf(':');
      var admin = proxy.adminAddress();
      if (colon <= 0 || admin.isEmpty()) {
        err.println(
            "bowline proxy: --merged-metrics: "
                + (colon <= 0
                    ? "want IP:PORT, got '" + mergedMetrics + "'"
                    : "the bootstrap has no admin address"));
        proxy.close();
        return 1;
      }
      var a = admin.get();
      try {
        merged =
            dev.bowline.agent.MergedMetricsServer.start(
                new java.net.InetSocketAddress(
                    mergedMetrics.substring(0, colon),
                    Integer.parseInt(mergedMetrics.substring(colon + 1))),
                java.net.URI.create(
                    "http://"
                        + a.getAddress().getHostAddress()
                        + ":"
                        + a.getPort()
                        + "/stats/prometheus"),
                java.util.Optional.ofNullable(appMetrics));
      } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
        err.println("bowline proxy: --merged-metrics: " + e.getMessage());
        proxy.close();
        return 1;
      }
    }
    Proxy running = proxy;
    Duration drain = options.drainTime();
    Thread hook = new Thread(() -> running.drainAndClose(drain), "bowline-drain");
    Runtime.getRuntime().addShutdownHook(hook);
    running.awaitTermination();
    if (merged != null) {
      merged.close();
    }
    return 0;
  }
}
