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
    Proxy running = proxy;
    Duration drain = options.drainTime();
    Thread hook = new Thread(() -> running.drainAndClose(drain), "bowline-drain");
    Runtime.getRuntime().addShutdownHook(hook);
    running.awaitTermination();
    return 0;
  }
}
