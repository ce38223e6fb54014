package dev.bowline.proxycli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A proxy process's command model ({@link ProxyMain#commandLine}, picocli's programmatic API) is
 * the one {@link ProxyCommand}'s annotations give bowline.jar's tree: same options, same usage,
 * same errors and exit codes, same values parsed.
 */
class ProxyCommandSpecTest {
  /** bowline.jar's {@code proxy} as main's {@code ProxyMain} built it: from the annotations. */
  @CommandLine.Command(name = "bowline", subcommands = ProxyCommand.class)
  static final class Annotated implements Runnable {
    @Override
    public void run() {}
  }

  private static CommandLine annotated() {
    return ProxyMain.withErrorHandler(new CommandLine(new Annotated()));
  }

  private record Run(int exit, String out, String err) {}

  private static Run run(Supplier<CommandLine> tree, String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    CommandLine cmd = tree.get();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void optionsAreTheAnnotatedOnes() {
    var programmatic = ProxyMain.commandLine().getSubcommands().get("proxy").getCommandSpec();
    var reference = annotated().getSubcommands().get("proxy").getCommandSpec();
    assertThat(programmatic.options()).hasSameSizeAs(reference.options());
    for (OptionSpec want : reference.options()) {
      OptionSpec got = programmatic.findOption(want.longestName());
      assertThat(got).as(want.longestName()).isNotNull();
      assertThat(got.names()).as(want.longestName()).containsExactly(want.names());
      assertThat(got.type()).as(want.longestName()).isEqualTo(want.type());
      assertThat(got.paramLabel()).as(want.longestName()).isEqualTo(want.paramLabel());
      assertThat(got.arity()).as(want.longestName()).isEqualTo(want.arity());
      assertThat(got.required()).as(want.longestName()).isEqualTo(want.required());
      assertThat(got.usageHelp()).as(want.longestName()).isEqualTo(want.usageHelp());
      assertThat(got.description()).as(want.longestName()).containsExactly(want.description());
      assertThat(got.defaultValueString())
          .as(want.longestName())
          .isEqualTo(want.defaultValueString());
      assertThat(got.initialValue()).as(want.longestName()).isEqualTo(want.initialValue());
    }
    assertThat(programmatic.usageMessage().description())
        .containsExactly(reference.usageMessage().description());
  }

  @Test
  void usageAndErrorsAreByteIdentical(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, "node: {id: n1}\n");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "node: {id: n1}\nstatic_resources: {listenrs: []}\n");
    String g = good.toString();
    List<List<String>> cases =
        List.of(
            List.of("proxy", "--help"),
            List.of("proxy", "-h"),
            List.of("proxy"),
            List.of("proxy", "-c"),
            List.of("proxy", "-c", g, "--check"),
            List.of("proxy", "--config-path=" + g, "--check", "--check"),
            List.of("proxy", "-c", bad.toString(), "--check"),
            List.of("proxy", "-c", g, "--concurrency", "x", "--check"),
            List.of("proxy", "-c", g, "--drain-time-s", "1.5", "--check"),
            List.of("proxy", "-c", g, "--app-metrics", "http://[bad", "--check"),
            List.of("proxy", "-c", g, "--app-probe", "ftp://x", "--check"),
            List.of("proxy", "-c", g, "--app-probe-period-s", "--check"),
            List.of("proxy", "-c", g, "--no-such-flag"),
            List.of("proxy", "-c", g, "extra", "--check"),
            List.of("proxy", "-c", g, "-c", g, "--check"),
            List.of("proxy", "-c", "a\0b", "--check"),
            List.of("proxy", "-c", g, "-l", "loud", "--check"),
            List.of("proxy", "-c", g, "--component-log-level", "upstream:loud", "--check"),
            List.of("proxy", "-c", g, "--component-log-level", "nope:debug", "--check"),
            List.of("proxy", "-c", g, "--component-log-level", "upstream", "--check"));
    for (List<String> args : cases) {
      String[] a = args.toArray(String[]::new);
      assertThat(run(ProxyMain::commandLine, a))
          .as("bowline %s", args)
          .isEqualTo(run(ProxyCommandSpecTest::annotated, a));
    }
    assertThat(run(ProxyMain::commandLine, "proxy", "--help").out())
        .startsWith("Usage: bowline proxy");
  }

  /**
   * Envoy's {@code -l} and {@code --component-log-level} (pilot-agent's {@code --log-level warning
   * --component-log-level misc:error}) set the component loggers; a bad level or name is a bad
   * flag: exit 2 and the usage.
   */
  @Test
  void logLevelsAreEnvoysFlags(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, "node: {id: n1}\n");
    String g = good.toString();
    try {
      var ok =
          run(
              ProxyMain::commandLine,
              "proxy",
              "-c",
              g,
              "--log-level",
              "warning",
              "--component-log-level",
              "misc:error,upstream:debug",
              "--check");
      assertThat(ok.exit()).isZero();
      assertThat(dev.bowline.proxy.admin.ComponentLogs.levelOf("main")).isEqualTo("warning");
      assertThat(dev.bowline.proxy.admin.ComponentLogs.levelOf("misc")).isEqualTo("error");
      assertThat(dev.bowline.proxy.admin.ComponentLogs.levelOf("upstream")).isEqualTo("debug");
      assertThat(
              java.util.logging.Logger.getLogger("io.netty.channel")
                  .isLoggable(java.util.logging.Level.WARNING))
          .isFalse();

      var bad = run(ProxyMain::commandLine, "proxy", "-c", g, "-l", "loud", "--check");
      assertThat(bad.exit()).isEqualTo(2);
      assertThat(bad.err())
          .startsWith(
              "Invalid value for option '--log-level': unknown level 'loud'; one of trace,"
                  + " debug, info, warning, error, critical, off\n")
          .contains("Usage: bowline proxy");
      var badName =
          run(ProxyMain::commandLine, "proxy", "-c", g, "--component-log-level", "x:info");
      assertThat(badName.exit()).isEqualTo(2);
      assertThat(badName.err())
          .startsWith("Invalid value for option '--component-log-level': unknown logger name 'x'");
    } finally {
      dev.bowline.proxy.admin.ComponentLogs.setAll("info");
    }
  }

  @Test
  void parsesTheSameValues() {
    String[] args = {
      "proxy",
      "-c",
      "/b.yaml",
      "--concurrency",
      "3",
      "--drain-time-s",
      "7",
      "--transport",
      "nio",
      "--merged-metrics",
      "127.0.0.2:15020",
      "--app-metrics",
      "http://127.0.0.1:9090/metrics",
      "--app-probe",
      "tcp://127.0.0.1:80",
      "--app-probe-period-s",
      "11",
      "--app-probe-timeout-s",
      "2",
      "--app-probe-initial-delay-s",
      "4",
      "--app-probe-success-threshold",
      "5",
      "--app-probe-failure-threshold",
      "6",
      "-l",
      "warning",
      "--component-log-level",
      "misc:error",
      "--check"
    };
    ProxyCommand got = parsed(ProxyMain.commandLine(), args);
    ProxyCommand want = parsed(annotated(), args);
    assertThat(got)
        .usingRecursiveComparison()
        .ignoringFields("spec", "optionsInSpec")
        .isEqualTo(want);
    assertThat(got.spec).isNotNull();
    ProxyCommand defaults = parsed(ProxyMain.commandLine(), "proxy", "-c", "/b.yaml");
    assertThat(defaults)
        .usingRecursiveComparison()
        .ignoringFields("spec", "optionsInSpec")
        .isEqualTo(parsed(annotated(), "proxy", "-c", "/b.yaml"));
    assertThat(defaults.concurrency).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(defaults.drainSeconds).isEqualTo(5);
  }

  private static ProxyCommand parsed(CommandLine tree, String... args) {
    tree.parseArgs(args);
    var command = (ProxyCommand) tree.getSubcommands().get("proxy").getCommand();
    command.readOptions(); // what call() does first
    return command;
  }
}
