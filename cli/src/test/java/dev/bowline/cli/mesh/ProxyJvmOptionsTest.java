package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The proxy's JVM options are one file (decision 0030): the runner reads it as a resource, {@code
 * ./bowline} and the benchmark hand it to {@code java} as an argument file. Both readings must
 * agree.
 */
class ProxyJvmOptionsTest {
  private static final Path FILE =
      Path.of("src/main/resources/dev/bowline/cli/mesh/proxy.jvm-options");

  @Test
  void theRunnerReadsTheOptionsTheLauncherPasses() throws Exception {
    assertThat(BowlineJvm.PROXY_FLAGS)
        .contains("-XX:+UseSerialGC", "-Xmx96m", "-Dio.netty.leakDetection.level=disabled")
        .noneMatch(f -> f.isBlank() || f.startsWith("#") || f.contains(" "));
    // the local runner's proxies: the same options, C1 only (light demo traffic, less memory)
    assertThat(MeshRunner.SIDECAR_FLAGS)
        .startsWith(BowlineJvm.PROXY_FLAGS.toArray(String[]::new))
        .endsWith("-XX:TieredStopAtLevel=1");
    List<String> lines =
        Files.readAllLines(FILE, StandardCharsets.UTF_8).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    assertThat(BowlineJvm.PROXY_FLAGS).isEqualTo(lines);
  }

  @Test
  void javaAcceptsTheFileAsAnArgumentFile() throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.add("@" + FILE.toAbsolutePath());
    argv.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .containsPattern("bool UseSerialGC\\s+= true")
        .containsPattern("size_t MaxHeapSize\\s+= " + 96 * 1024 * 1024 + "\\b")
        // decision 0030, addendum 2: C2 later at start-up, the class archive left unrelocated
        .containsPattern("intx Tier4InvocationThreshold\\s+= 10000\\b")
        .containsPattern("int ArchiveRelocationMode\\s+= 0\\b")
        // session 11: Netty's and Bowline's methods at the default tier-3 counts, said quietly
        .doesNotContain("CompileCommand:");
    assertThat(BowlineJvm.PROXY_FLAGS)
        .contains(
            "-XX:CompileCommand=quiet",
            "-XX:CompileCommand=CompileThresholdScaling,io.netty.*::*,0.2",
            "-XX:CompileCommand=CompileThresholdScaling,dev.bowline.*::*,0.2");
  }
}
