package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = Main.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void helpListsEverySubcommand() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString())
        .startsWith("Usage: bowline")
        .contains(
            "version",
            "demo",
            "up",
            "control-plane",
            "proxy",
            "validate",
            "analyze",
            "apply",
            "delete",
            "proxy-status",
            "proxy-config",
            "dashboard");
  }

  @Test
  void versionNamesBuildJavaAndTransport() {
    assertThat(run("version")).isZero();
    String[] lines = out.toString().split("\\R");
    assertThat(lines).hasSize(4);
    assertThat(lines[0]).matches("bowline \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    assertThat(lines[1]).startsWith("commit:    ");
    assertThat(lines[2]).startsWith("java:      " + Runtime.version().feature());
    assertThat(lines[3]).isIn("transport: epoll", "transport: nio");
  }

  @Test
  void unknownSubcommandIsAUsageError() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(err.toString()).contains("Unmatched argument at index 0: 'frobnicate'");
    assertThat(err.toString()).contains("Did you mean: bowline");
  }

  @Test
  void unknownFlagIsAUsageError() {
    assertThat(run("version", "--frobnicate")).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown option: '--frobnicate'");
  }

  @Test
  void noSubcommandIsAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required subcommand");
  }

  /** A subcommand in PlannedCommands (none is left today) says which issue tracks it. */
  @CommandLine.Command(name = "someday")
  static final class Someday extends PlannedCommands.Planned {
    @Override
    int issue() {
      return 99;
    }
  }

  @Test
  void plannedSubcommandSaysWhichIssueTracksIt() {
    CommandLine cmd = Main.newCommandLine().addSubcommand(new Someday());
    cmd.setErr(new PrintWriter(err, true));
    assertThat(cmd.execute("someday")).isEqualTo(PlannedCommands.NOT_BUILT);
    assertThat(err.toString()).contains("bowline someday: not built yet (tracked in issue #99)");
  }

  @Test
  void dashboardWithoutAControlPlaneSaysHowToStartOne() throws Exception {
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    assertThat(run("dashboard", "--no-browser", "--control-plane", "http://127.0.0.1:" + port))
        .isEqualTo(1);
    assertThat(err.toString())
        .contains("bowline dashboard: no control plane answers at http://127.0.0.1:" + port)
        .contains("start a mesh with bowline demo or bowline up -f mesh.yaml");
  }
}
