package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ProxyCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = Main.commandLineFor(args); // the proxy-only tree, as Main.run picks it
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void checksAValidBootstrap(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bootstrap.yaml");
    Files.writeString(
        f,
        "node: {id: n1}\nadmin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n");
    assertThat(run("proxy", "-c", f.toString(), "--check")).isZero();
    assertThat(out.toString()).contains("bootstrap.yaml: OK");
  }

  @Test
  void anUnknownFieldStopsStartupNamingIt(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bootstrap.yaml");
    Files.writeString(f, "node: {id: n1}\nstatic_resources: {listenrs: []}\n");
    assertThat(run("proxy", "-c", f.toString())).isEqualTo(1);
    assertThat(err.toString()).startsWith("bowline proxy: ").contains("listenrs");
  }

  @Test
  void anInvalidStaticResourceStopsStartupNamingIt(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bootstrap.yaml");
    Files.writeString(
        f,
        "static_resources:\n  clusters:\n  - {name: c1, type: STATIC, lb_policy: CLUSTER_PROVIDED}\n");
    assertThat(run("proxy", "-c", f.toString())).isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "static_resources.clusters[0]: Cluster c1: lb_policy: CLUSTER_PROVIDED is not supported");
  }

  @Test
  void helpPrintsTheUsageAndSucceedsWithoutABootstrap() {
    assertThat(run("proxy", "--help")).isZero();
    assertThat(out.toString()).contains("Usage: bowline proxy").contains("--config-path");
    assertThat(err.toString()).doesNotContain("Missing required option");
  }

  @Test
  void theProxyOnlyTreeStillSaysBowlineProxy() {
    assertThat(run("proxy")).isEqualTo(2);
    assertThat(err.toString())
        .contains("Missing required option: '--config-path")
        .contains("Usage: bowline proxy");
    assertThat(Main.commandLineFor("proxy").getSubcommands()).containsOnlyKeys("proxy");
    assertThat(Main.commandLineFor("version").getSubcommands()).containsKeys("proxy", "version");
  }
}
