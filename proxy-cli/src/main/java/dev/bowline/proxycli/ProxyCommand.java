package dev.bowline.proxycli;

import dev.bowline.proxy.Proxy;
import dev.bowline.proxy.ProxyOptions;
import dev.bowline.proxy.admin.ComponentLogs;
import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline proxy -c bootstrap.yaml}: runs the proxy from an Envoy v3 bootstrap. The {@code
 * bowline} command lists it among its subcommands; a proxy process runs it through {@link
 * ProxyMain}, on this module's class path only (decision 0038).
 */
@Command(name = ProxyCommand.NAME, description = ProxyCommand.DESCRIPTION)
public final class ProxyCommand implements Callable<Integer> {
  private static final System.Logger SIGNALS = System.getLogger(ProxyCommand.class.getName());

  // The annotations describe this command for bowline.jar's whole tree (BowlineCommand); a proxy
  // process builds the same model with picocli's programmatic API (spec(), decision 0043 addendum
  // session 13). The texts are these constants, shared by both; ProxyCommandSpecTest compares the
  // two models' usage and errors.
  static final String NAME = "proxy";
  static final String DESCRIPTION =
      "Run the proxy from an Envoy v3 bootstrap (YAML or JSON); SIGTERM drains.";
  static final String HELP = "Print this help and exit (Envoy's --help).";
  static final String CONFIG = "Envoy v3 bootstrap file, YAML or JSON (Envoy's -c).";
  static final String CONCURRENCY =
      "Event loops (default: one per core, like Envoy's --concurrency).";
  static final String DRAIN_TIME =
      "Seconds a draining listener (changed or removed by LDS, /drain_listeners, SIGTERM)"
          + " lets its connections finish before closing them (default: ${DEFAULT-VALUE}).";
  static final String TRANSPORT =
      "Netty transport: auto, epoll, io_uring, nio (default: ${DEFAULT-VALUE}).";
  static final String MERGED_METRICS =
      "Serve pilot-agent's merged metrics here (/stats/prometheus: the proxy's :15090 metrics"
          + " plus --app-metrics), e.g. 127.0.0.2:15020.";
  static final String APP_METRICS =
      "The app's Prometheus endpoint merged into --merged-metrics (Istio's"
          + " prometheus.io/port and /path).";
  static final String APP_PROBE =
      "Probe the app as pilot-agent does for a VM (WorkloadGroup probe / ProxyConfig"
          + " readinessProbe): http://HOST:PORT/PATH (httpGet, 2xx-3xx healthy) or"
          + " tcp://HOST:PORT (tcpSocket); health changes go to the control plane over the"
          + " ADS stream, which marks an auto-registered WorkloadEntry's endpoints.";
  static final String PROBE_PERIOD = "Seconds between probes (default: ${DEFAULT-VALUE}).";
  static final String PROBE_TIMEOUT = "Seconds one probe may take (default: ${DEFAULT-VALUE}).";
  static final String PROBE_INITIAL_DELAY =
      "Seconds before the first probe (default: ${DEFAULT-VALUE}).";
  static final String PROBE_SUCCESSES =
      "Consecutive successes to become healthy (default: ${DEFAULT-VALUE}).";
  static final String PROBE_FAILURES =
      "Consecutive failures to become unhealthy (default: ${DEFAULT-VALUE}).";
  static final String LOG_LEVEL =
      "Level of every logger: trace, debug, info, warning, error, critical, off (Envoy's -l;"
          + " default: as java.util.logging is configured, info).";
  static final String COMPONENT_LOG_LEVEL =
      "Levels of single loggers after --log-level, e.g. upstream:debug,config:trace (Envoy's"
          + " --component-log-level; the names are those POST /logging lists).";
  static final String CHECK =
      "Only parse and validate the bootstrap, then exit (like Envoy's --mode validate).";

  @Spec CommandSpec spec;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = HELP)
  boolean help;

  @Option(
      names = {"-c", "--config-path"},
      required = true,
      description = CONFIG)
  Path config;

  @Option(names = "--concurrency", description = CONCURRENCY)
  int concurrency = Runtime.getRuntime().availableProcessors();

  @Option(names = "--drain-time-s", description = DRAIN_TIME)
  int drainSeconds = 5;

  @Option(names = "--transport", description = TRANSPORT)
  String transport = "auto";

  @Option(names = "--merged-metrics", paramLabel = "IP:PORT", description = MERGED_METRICS)
  String mergedMetrics;

  @Option(names = "--app-metrics", paramLabel = "URL", description = APP_METRICS)
  java.net.URI appMetrics;

  @Option(names = "--app-probe", paramLabel = "URL", description = APP_PROBE)
  String appProbe;

  @Option(names = "--app-probe-period-s", description = PROBE_PERIOD)
  int probePeriod = 10;

  @Option(names = "--app-probe-timeout-s", description = PROBE_TIMEOUT)
  int probeTimeout = 1;

  @Option(names = "--app-probe-initial-delay-s", description = PROBE_INITIAL_DELAY)
  int probeInitialDelay = 0;

  @Option(names = "--app-probe-success-threshold", description = PROBE_SUCCESSES)
  int probeSuccesses = 1;

  @Option(names = "--app-probe-failure-threshold", description = PROBE_FAILURES)
  int probeFailures = 3;

  @Option(
      names = {"-l", "--log-level"},
      paramLabel = "LEVEL",
      description = LOG_LEVEL)
  String logLevel;

  @Option(
      names = "--component-log-level",
      paramLabel = "NAME:LEVEL,...",
      description = COMPONENT_LOG_LEVEL)
  String componentLogLevel;

  @Option(names = "--check", description = CHECK)
  boolean check;

  /**
   * This command's model built with picocli's programmatic API, the same as its annotations give:
   * no annotation proxies, no reflective field access and none of the method handles that spins
   * (0043: ~11-13% of a proxy's main thread to ready). The param labels are what picocli derives
   * from the field names where none is given. The options hold their values in picocli's own
   * bindings, which {@link #call} copies into the fields: a class of ours implementing one of
   * picocli's interfaces (a getter, a setter, a converter) would keep those interfaces and every
   * picocli class implementing them out of the AppCDS archive (picocli's classes are Java 5 class
   * files, which the archive keeps only if the dump did not link them; 30 more classes loaded from
   * the jars per start, measured).
   */
  static CommandSpec spec(ProxyCommand c) {
    CommandSpec spec = CommandSpec.wrapWithoutInspection(c).name(NAME);
    spec.usageMessage().description(DESCRIPTION);
    spec.addOption(
        option("help", boolean.class, c.help, null, HELP, "-h", "--help").usageHelp(true).build());
    spec.addOption(
        option("config", Path.class, c.config, null, CONFIG, "-c", "--config-path")
            .required(true)
            .build());
    spec.addOption(
        option("concurrency", int.class, c.concurrency, null, CONCURRENCY, "--concurrency")
            .build());
    spec.addOption(
        option("drainSeconds", int.class, c.drainSeconds, null, DRAIN_TIME, "--drain-time-s")
            .build());
    spec.addOption(
        option("transport", String.class, c.transport, null, TRANSPORT, "--transport").build());
    spec.addOption(
        option(
                "mergedMetrics",
                String.class,
                c.mergedMetrics,
                "IP:PORT",
                MERGED_METRICS,
                "--merged-metrics")
            .build());
    spec.addOption(
        option("appMetrics", java.net.URI.class, c.appMetrics, "URL", APP_METRICS, "--app-metrics")
            .build());
    spec.addOption(
        option("appProbe", String.class, c.appProbe, "URL", APP_PROBE, "--app-probe").build());
    spec.addOption(
        option("probePeriod", int.class, c.probePeriod, null, PROBE_PERIOD, "--app-probe-period-s")
            .build());
    spec.addOption(
        option(
                "probeTimeout",
                int.class,
                c.probeTimeout,
                null,
                PROBE_TIMEOUT,
                "--app-probe-timeout-s")
            .build());
    spec.addOption(
        option(
                "probeInitialDelay",
                int.class,
                c.probeInitialDelay,
                null,
                PROBE_INITIAL_DELAY,
                "--app-probe-initial-delay-s")
            .build());
    spec.addOption(
        option(
                "probeSuccesses",
                int.class,
                c.probeSuccesses,
                null,
                PROBE_SUCCESSES,
                "--app-probe-success-threshold")
            .build());
    spec.addOption(
        option(
                "probeFailures",
                int.class,
                c.probeFailures,
                null,
                PROBE_FAILURES,
                "--app-probe-failure-threshold")
            .build());
    spec.addOption(
        option("logLevel", String.class, c.logLevel, "LEVEL", LOG_LEVEL, "-l", "--log-level")
            .build());
    spec.addOption(
        option(
                "componentLogLevel",
                String.class,
                c.componentLogLevel,
                "NAME:LEVEL,...",
                COMPONENT_LOG_LEVEL,
                "--component-log-level")
            .build());
    spec.addOption(option("check", boolean.class, c.check, null, CHECK, "--check").build());
    c.spec = spec;
    c.optionsInSpec = true;
    return spec;
  }

  private static OptionSpec.Builder option(
      String field,
      Class<?> type,
      Object initial,
      String paramLabel,
      String description,
      String... names) {
    return OptionSpec.builder(names)
        .type(type)
        .description(description)
        .initialValue(initial)
        .hasInitialValue(true)
        .paramLabel(paramLabel == null ? "<".concat(field).concat(">") : paramLabel);
  }

  /**
   * Built by {@link #spec}: the options' values are in {@link #spec}'s bindings until {@link
   * #call}.
   */
  private boolean optionsInSpec;

  /** With {@link #spec}'s model, copies the parsed options into the fields; else does nothing. */
  void readOptions() {
    if (!optionsInSpec) {
      return;
    }
    help = value("--help");
    config = value("--config-path");
    concurrency = value("--concurrency");
    drainSeconds = value("--drain-time-s");
    transport = value("--transport");
    mergedMetrics = value("--merged-metrics");
    appMetrics = value("--app-metrics");
    appProbe = value("--app-probe");
    probePeriod = value("--app-probe-period-s");
    probeTimeout = value("--app-probe-timeout-s");
    probeInitialDelay = value("--app-probe-initial-delay-s");
    probeSuccesses = value("--app-probe-success-threshold");
    probeFailures = value("--app-probe-failure-threshold");
    logLevel = value("--log-level");
    componentLogLevel = value("--component-log-level");
    check = value("--check");
  }

  /**
   * Envoy's {@code -l} and {@code --component-log-level} applied; a bad value is a bad flag (exit 2
   * with the usage), as picocli's own conversion errors are.
   */
  private void applyLogLevels() {
    if (logLevel == null && componentLogLevel == null) {
      return; // as java.util.logging is configured
    }
    var line = spec.commandLine();
    java.util.Map<String, String> components = java.util.Map.of();
    try {
      if (logLevel != null) {
        ComponentLogs.checkLevel(logLevel);
      }
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(
          line, "Invalid value for option '--log-level': " + e.getMessage());
    }
    try {
      if (componentLogLevel != null) {
        components = ComponentLogs.parse(componentLogLevel);
      }
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(
          line, "Invalid value for option '--component-log-level': " + e.getMessage());
    }
    ComponentLogs.configure(logLevel, components);
  }

  private <T> T value(String option) {
    return spec.findOption(option).getValue();
  }

  @Override
  public Integer call() throws InterruptedException {
    readOptions();
    applyLogLevels();
    var err = spec.commandLine().getErr();
    ProxyOptions options;
    Proxy proxy;
    dev.bowline.agentstatus.AppHealthChecker.Probe probe = null;
    dev.bowline.agentstatus.AppHealthChecker.Settings probeSettings = null;
    if (appProbe != null) {
      try {
        probe = dev.bowline.agentstatus.AppHealthChecker.Probe.parse(appProbe);
        probeSettings =
            new dev.bowline.agentstatus.AppHealthChecker.Settings(
                Duration.ofSeconds(probeInitialDelay),
                Duration.ofSeconds(probePeriod),
                Duration.ofSeconds(probeTimeout),
                probeSuccesses,
                probeFailures);
      } catch (IllegalArgumentException e) {
        err.println("bowline proxy: --app-probe: " + e.getMessage());
        return 1;
      }
    }
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
    dev.bowline.agentstatus.MergedMetricsServer merged = null;
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
            dev.bowline.agentstatus.MergedMetricsServer.start(
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
    dev.bowline.agentstatus.AppHealthChecker checker = null;
    java.util.concurrent.ScheduledExecutorService probes = null;
    if (probe != null) {
      probes =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
              r -> Thread.ofPlatform().name("bowline-app-probe").daemon().unstarted(r));
      checker =
          dev.bowline.agentstatus.AppHealthChecker.start(
              probe,
              probeSettings,
              dev.bowline.agentstatus.Scheduler.of(probes),
              why ->
                  running.reportToXds(
                      dev.bowline.agentstatus.AppHealthChecker.HEALTH_INFORMATION_TYPE,
                      why == null ? "" : why));
    }
    Duration drain = options.drainTime();
    onTermination(running, drain);
    started = running;
    startedChecker = checker;
    startedProbes = probes;
    startedMerged = merged;
    if (!returnWhenStarted) {
      awaitTermination();
    }
    return 0;
  }

  /**
   * Set by {@link ProxyMain} before it executes the command: {@link #call} returns once the proxy
   * serves, and the process's {@code main} waits for its end in {@link #awaitTermination} from a
   * shallow frame instead of picocli's 17 (every young GC walks the waiting thread's frames;
   * decision 0037, addendum 11). {@code bowline.jar}'s {@code bowline proxy} leaves it false and
   * waits in {@link #call}.
   */
  boolean returnWhenStarted;

  /** What {@link #call} started and {@link #awaitTermination} waits for; null if nothing. */
  private Proxy started;

  private dev.bowline.agentstatus.AppHealthChecker startedChecker;
  private java.util.concurrent.ScheduledExecutorService startedProbes;
  private dev.bowline.agentstatus.MergedMetricsServer startedMerged;

  /**
   * Blocks until the started proxy has stopped (SIGTERM or SIGINT drained it, {@code POST
   * /quitquitquit} closed it), then closes what was started with it; returns at once if {@link
   * #call} started nothing.
   */
  void awaitTermination() throws InterruptedException {
    if (started == null) {
      return;
    }
    started.awaitTermination();
    if (startedChecker != null) {
      startedChecker.close();
      startedProbes.shutdownNow();
    }
    if (startedMerged != null) {
      startedMerged.close();
    }
  }

  /**
   * SIGTERM and SIGINT drain the proxy for {@code drain} and close it; the process then exits 0, as
   * Envoy's does on either signal (Envoy's server shuts down on both and its main returns success).
   * A JVM left to its default handlers would run the shutdown hook and exit 143 (130 for SIGINT).
   * SIGHUP is caught and ignored, and SIGUSR1 reopens the access-log files, as Envoy's server does
   * (its warnings: "caught and eating SIGHUP", "caught SIGUSR1"): a JVM would end on SIGHUP, so a
   * sidecar whose terminal or session went away stopped where Envoy keeps serving. The shutdown
   * hook stays for the other ways a JVM ends ({@code System.exit} elsewhere); it does nothing to a
   * proxy already closed.
   */
  private static void onTermination(Proxy running, Duration drain) {
    Runnable drainThenClose = () -> running.drainAndClose(drain);
    for (String name : new String[] {"TERM", "INT"}) {
      handle(name, () -> Thread.ofPlatform().name("bowline-drain").start(drainThenClose));
    }
    handle(
        "HUP",
        () ->
            SIGNALS.log(
                System.Logger.Level.WARNING,
                "event=signal_ignored signal=SIGHUP: caught and eating SIGHUP, as Envoy does (no"
                    + " hot restart)"));
    handle(
        "USR1",
        () -> {
          SIGNALS.log(
              System.Logger.Level.WARNING,
              "event=access_logs_reopened signal=SIGUSR1: caught SIGUSR1");
          running.reopenAccessLogs();
        });
    Runtime.getRuntime().addShutdownHook(new Thread(drainThenClose, "bowline-drain-hook"));
  }

  /** Runs {@code action} on the JVM's signal thread when {@code name} arrives. */
  private static void handle(String name, Runnable action) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
    } catch (IllegalArgumentException e) {
      // -Xrs: the JVM leaves the signal alone and runs no hook on it (its default action ends
      // the process)
    }
  }
}
