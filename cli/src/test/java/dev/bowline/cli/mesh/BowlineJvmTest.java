package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which class path a proxy process gets (decision 0038). */
class BowlineJvmTest {
  @TempDir Path dir;

  @Test
  void aRunnerFromBowlineJarStartsProxiesFromTheLauncherBesideIt() throws Exception {
    Path cli = Files.createFile(dir.resolve("bowline.jar"));
    Path launcher = Files.createFile(dir.resolve("bowline-proxy.jar"));
    BowlineJvm jvm = new BowlineJvm("java", cli.toString(), "dev.bowline.cli.Main");
    assertThat(jvm.proxy("", List.of("-Xss256k"), List.of("-c", "b.yaml")))
        .containsExactly(
            "java",
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-Xss256k",
            "-cp",
            launcher.toString(),
            "dev.bowline.proxycli.ProxyMain",
            "proxy",
            "-c",
            "b.yaml");
    // every other subcommand still runs from the CLI's jar
    assertThat(jvm.bowline("", List.of(), List.of("control-plane")))
        .containsSequence("-cp", cli.toString(), "dev.bowline.cli.Main", "control-plane");
  }

  @Test
  void withoutTheLauncherProxiesRunFromTheRunnersClassPath() throws Exception {
    Path cli = Files.createFile(dir.resolve("bowline.jar"));
    assertThat(new BowlineJvm("java", cli.toString(), "M").proxy("", List.of(), List.of()))
        .containsSequence("-cp", cli.toString(), "dev.bowline.proxycli.ProxyMain", "proxy");
    // Maven's class path in tests: several entries, the proxy's main among them
    Files.createFile(dir.resolve("bowline-proxy.jar"));
    String cp = cli + File.pathSeparator + dir.resolve("classes");
    assertThat(new BowlineJvm("java", cp, "M").proxy("", List.of(), List.of()))
        .containsSequence("-cp", cp, "dev.bowline.proxycli.ProxyMain", "proxy");
  }
}
