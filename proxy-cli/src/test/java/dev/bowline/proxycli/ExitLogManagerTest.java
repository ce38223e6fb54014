package dev.bowline.proxycli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ExitLogManager} in a real JVM: a line logged from a shutdown hook after the JDK's own
 * logging hook has run is still written (the control plane and {@code bowline up} stop in such
 * hooks on SIGTERM; the proxy's hook serves {@code System.exit} elsewhere).
 */
class ExitLogManagerTest {

  /** The child JVM: takes the manager as the processes' mains do, logs last from a hook, exits. */
  public static final class Probe {
    public static void main(String[] args) {
      ProxyMain.keepLogsAtExit();
      System.Logger log = System.getLogger(Probe.class.getName());
      log.log(System.Logger.Level.INFO, "event=probe_started");
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      Thread.sleep(500); // the JDK's reset hook has run by now
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    log.log(System.Logger.Level.INFO, "event=probe_stopped");
                  }));
      System.exit(3);
    }
  }

  @Test
  void aLineLoggedInAShutdownHookIsWritten(@TempDir Path dir) throws Exception {
    Path err = dir.resolve("err");
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    Probe.class.getName()))
            .redirectErrorStream(false)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(3);
    assertThat(Files.readString(err, StandardCharsets.UTF_8))
        .contains("event=probe_started")
        .contains("event=probe_stopped");
  }
}
