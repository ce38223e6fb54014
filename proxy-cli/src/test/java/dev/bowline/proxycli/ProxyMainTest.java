package dev.bowline.proxycli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The proxy process's command tree: {@code bowline proxy} alone, with the CLI's messages. */
class ProxyMainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = ProxyMain.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void checksABootstrap(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bootstrap.yaml");
    Files.writeString(f, "node: {id: n1}\n");
    assertThat(run("proxy", "-c", f.toString(), "--check")).isZero();
    assertThat(out.toString()).isEqualTo(f + ": OK" + System.lineSeparator());
  }

  @Test
  void onlyTheProxyIsThereAndUsageSaysBowlineProxy() {
    assertThat(ProxyMain.commandLine().getSubcommands()).containsOnlyKeys("proxy");
    assertThat(run("proxy", "--concurrency", "two")).isEqualTo(2);
    assertThat(err.toString())
        .contains("Invalid value for option '--concurrency': 'two' is not an int")
        .contains("Usage: bowline proxy");
  }

  @Test
  void nettyLogsThroughJulWithoutProbingForOtherFrameworks() {
    ProxyMain.nettyLogsToJul();
    assertThat(io.netty.util.internal.logging.InternalLoggerFactory.getDefaultFactory())
        .isSameAs(io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
    // Netty's loggers are now JUL's, by class name, as Netty's probing would have ended
    var logger = io.netty.util.internal.logging.InternalLoggerFactory.getInstance(getClass());
    assertThat(logger.getClass().getSimpleName()).isEqualTo("JdkLogger");
    assertThat(logger.name()).isEqualTo(getClass().getName());
  }

  @Test
  void aFailedExecutionIsOneLineNamingTheCommand() {
    CommandLine cmd = ProxyMain.withErrorHandler(new CommandLine(new Failing()));
    cmd.setErr(new PrintWriter(err, true));
    assertThat(cmd.execute()).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "bowline failing: java.lang.IllegalStateException: boom" + System.lineSeparator());
  }

  @CommandLine.Command(name = "failing")
  static final class Failing implements Runnable {
    @Override
    public void run() {
      throw new IllegalStateException("boom");
    }
  }
}
