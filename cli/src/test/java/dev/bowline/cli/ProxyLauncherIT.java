package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cli/target/bowline-proxy.jar}, what every proxy process runs (decision 0038): its class
 * path is the proxy's runtime jars only, and {@code bowline proxy} behaves through it exactly as
 * through {@code bowline.jar}: same output, same exit codes, flag by flag.
 */
class ProxyLauncherIT {
  private static final Path TARGET = Path.of("target").toAbsolutePath();
  private static final Path LAUNCHER = TARGET.resolve("bowline-proxy.jar");

  record Result(int exit, String out, String err) {}

  private static Result java(Path jar, Path dir, String... args) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-Xshare:auto",
            "-jar",
            jar.toString()));
    argv.addAll(Arrays.asList(args));
    Path out = dir.resolve("out-" + System.nanoTime());
    Path err = dir.resolve("err-" + System.nanoTime());
    Process p =
        new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished: %s", argv).isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void itsClassPathIsTheProxysRuntimeJarsOnly() throws Exception {
    String mainClass;
    List<String> classPath;
    try (JarFile jar = new JarFile(LAUNCHER.toFile())) {
      var attributes = jar.getManifest().getMainAttributes();
      mainClass = attributes.getValue("Main-Class");
      classPath = List.of(attributes.getValue("Class-Path").trim().split(" +"));
    }
    assertThat(mainClass).isEqualTo("dev.bowline.proxycli.ProxyMain");
    assertThat(classPath).allSatisfy(e -> assertThat(TARGET.resolve(e)).isRegularFile());
    List<String> names = classPath.stream().map(e -> e.substring("lib/".length())).toList();
    assertThat(names)
        .anyMatch(n -> n.startsWith("bowline-proxy-0"))
        .anyMatch(n -> n.startsWith("bowline-agent-status-"))
        .anyMatch(n -> n.startsWith("picocli-"))
        .noneMatch(n -> n.startsWith("bowline-controlplane-"))
        .noneMatch(n -> n.startsWith("bowline-api-"))
        .noneMatch(n -> n.startsWith("bowline-config-"))
        .noneMatch(n -> n.startsWith("bowline-cli-"))
        .noneMatch(n -> n.startsWith("grpc-netty-shaded-"))
        .noneMatch(n -> n.startsWith("micrometer-"))
        .noneMatch(n -> n.startsWith("jackson-dataformat-yaml-"))
        // the agent's certificate jobs run in the mesh runner, not in a proxy (decision 0041)
        .noneMatch(n -> n.startsWith("bowline-agent-0"))
        .noneMatch(n -> n.startsWith("bowline-ca-"))
        .noneMatch(n -> n.startsWith("bcprov-"))
        .noneMatch(n -> n.startsWith("bcpkix-"))
        .noneMatch(n -> n.startsWith("bcutil-"));
  }

  @Test
  void bowlineProxyBehavesAsThroughTheCliJar(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(
        good,
        "node: {id: n1}\nadmin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "node: {id: n1}\nstatic_resources: {listenrs: []}\n");
    List<List<String>> cases =
        List.of(
            List.of("proxy", "--help"),
            List.of("proxy"),
            List.of("proxy", "-c", good.toString(), "--check"),
            List.of("proxy", "-c", bad.toString()),
            List.of("proxy", "-c", good.toString(), "--concurrency", "x", "--check"),
            List.of("proxy", "-c", good.toString(), "--app-probe", "ftp://x", "--check"),
            List.of("proxy", "-c", good.toString(), "--no-such-flag"));
    for (List<String> args : cases) {
      String[] a = args.toArray(String[]::new);
      Result viaCli = java(TARGET.resolve("bowline.jar"), dir, a);
      Result viaLauncher = java(LAUNCHER, dir, a);
      assertThat(viaLauncher).as("bowline %s", args).isEqualTo(viaCli);
    }
    assertThat(java(LAUNCHER, dir, "proxy", "-c", good.toString(), "--check").out())
        .contains("good.yaml: OK");
  }

  @Test
  void itRunsNothingButTheProxy(@TempDir Path dir) throws Exception {
    Result r = java(LAUNCHER, dir, "version");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("runs 'bowline proxy' only");
  }
}
