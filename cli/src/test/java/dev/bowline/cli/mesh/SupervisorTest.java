package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.cli.mesh.Supervisor.Child;
import dev.bowline.cli.mesh.Supervisor.Probe;
import dev.bowline.cli.mesh.Supervisor.Readiness;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real child processes (sh, sleep): exits reported, others untouched, nothing left behind. */
class SupervisorTest {
  @TempDir Path dir;
  private final StringWriter events = new StringWriter();

  private Supervisor.Spec sh(String what, String script, Probe probe) {
    return new Supervisor.Spec(
        what,
        List.of("sh", "-c", script),
        Map.of("GREETING", "hello"),
        dir,
        dir.resolve(what + ".log"),
        probe);
  }

  private final List<Socket> held = new ArrayList<>();

  @AfterEach
  void release() throws Exception {
    for (Socket s : held) {
      s.close();
    }
  }

  /**
   * A port bound but never listened on, held until the test ends: connecting is refused, and no
   * other process on the machine can start listening there meanwhile (a port freed at once could be
   * taken by a parallel test and turn the probe ready).
   */
  private Probe nothingListens() throws Exception {
    Socket s = new Socket();
    held.add(s);
    s.bind(new InetSocketAddress("127.0.0.1", 0));
    return new Probe.Tcp("127.0.0.1", s.getLocalPort());
  }

  @Test
  void anExitIsReportedInOneLineAndTheOthersKeepRunning() throws Exception {
    try (Supervisor sup = new Supervisor(new PrintWriter(events, true), Duration.ofSeconds(2))) {
      Child a = sup.start(sh("workload=a", "exec sleep 60", nothingListens()));
      Child b = sup.start(sh("workload=b", "exec sleep 60", nothingListens()));
      b.process().toHandle().destroyForcibly();
      await().atMost(Duration.ofSeconds(10)).until(() -> events.toString().contains("workload=b"));
      assertThat(events.toString().strip())
          .isEqualTo(
              "bowline up: exited workload=b pid="
                  + b.pid()
                  + " code=137 (the rest keep running; log: "
                  + dir.resolve("workload=b.log")
                  + ")");
      assertThat(a.alive()).isTrue();
    }
  }

  @Test
  void readinessIsReadyExitedOrTimedOut() throws Exception {
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/health",
        ex -> {
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    http.start();
    try (Supervisor sup = new Supervisor(new PrintWriter(events, true), Duration.ofSeconds(2))) {
      URI health = URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/health");
      Child ok = sup.start(sh("ok", "exec sleep 60", new Probe.Http(health)));
      assertThat(sup.awaitReady(ok, Duration.ofSeconds(10))).isInstanceOf(Readiness.Ready.class);

      Child crash = sup.start(sh("crash", "echo \"$GREETING, failing\"; exit 4", nothingListens()));
      assertThat(sup.awaitReady(crash, Duration.ofSeconds(10))).isEqualTo(new Readiness.Exited(4));
      assertThat(Files.readString(dir.resolve("crash.log"))).isEqualTo("hello, failing\n");

      Child slow = sup.start(sh("slow", "exec sleep 60", nothingListens()));
      assertThat(sup.awaitReady(slow, Duration.ofMillis(300)))
          .isEqualTo(new Readiness.TimedOut(Duration.ofMillis(300)));
    } finally {
      http.stop(0);
    }
  }

  @Test
  void closeTermsEveryChildAndDescendantAndKillsWhatIgnoresIt() throws Exception {
    Supervisor sup = new Supervisor(new PrintWriter(events, true), Duration.ofMillis(500));
    Child family = sup.start(sh("family", "sleep 60 & sleep 60 & wait", nothingListens()));
    Child stubborn =
        sup.start(
            sh(
                "stubborn",
                "trap '' TERM; echo trapped; while true; do sleep 0.1; done",
                nothingListens()));
    await().atMost(Duration.ofSeconds(30)).until(() -> family.process().descendants().count() == 2);
    // SIGTERM before the shell has run its trap would end it like any other: wait for the trap.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Files.readString(dir.resolve("stubborn.log")).equals("trapped\n"));
    List<ProcessHandle> before = sup.liveProcesses();
    assertThat(before).hasSizeGreaterThanOrEqualTo(4);

    sup.close();

    assertThat(before).noneMatch(ProcessHandle::isAlive);
    assertThat(sup.liveProcesses()).isEmpty();
    assertThat(events.toString())
        .contains("bowline up: pid=" + stubborn.pid() + " ignored SIGTERM; killing it")
        .doesNotContain("exited"); // stopping on purpose is not reported as a crash
  }
}
