package dev.bowline.agentstatus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The agent's app prober against a real HTTP server and a real closed port, stepped by a manual
 * scheduler: reports on state changes only, with Kubernetes' thresholds.
 */
class AppHealthCheckerTest {
  /** Runs scheduled tasks when the test says so. */
  static final class Manual implements Scheduler {
    final ArrayDeque<Runnable> due = new ArrayDeque<>();

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      due.add(task);
      return () -> due.remove(task);
    }

    void step(int n) {
      for (int i = 0; i < n; i++) {
        due.poll().run();
      }
    }
  }

  @Test
  void reportsTransitionsAfterTheThresholds() throws Exception {
    AtomicInteger status = new AtomicInteger(200);
    HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    app.createContext(
        "/ready",
        x -> {
          x.sendResponseHeaders(status.get(), -1);
          x.close();
        });
    app.start();
    try {
      Manual scheduler = new Manual();
      List<String> reports = new ArrayList<>();
      AppHealthChecker c =
          AppHealthChecker.start(
              new AppHealthChecker.Probe.HttpGet("127.0.0.1", app.getAddress().getPort(), "ready"),
              new AppHealthChecker.Settings(
                  Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(2), 2, 2),
              scheduler,
              why -> reports.add(why == null ? "healthy" : why));
      scheduler.step(1);
      assertThat(reports).isEmpty(); // one success of two
      scheduler.step(3);
      assertThat(reports).containsExactly("healthy"); // once, not per probe
      status.set(503);
      scheduler.step(1);
      assertThat(reports).hasSize(1); // one failure of two
      scheduler.step(2);
      assertThat(reports).containsExactly("healthy", "http probe /ready returned 503");
      status.set(204);
      scheduler.step(2);
      assertThat(reports).hasSize(3).last().isEqualTo("healthy");
      c.close();
      assertThat(scheduler.due).isEmpty();
    } finally {
      app.stop(0);
    }
  }

  @Test
  void aClosedPortFailsTheTcpProbe() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Manual scheduler = new Manual();
    List<String> reports = new ArrayList<>();
    AppHealthChecker.start(
        new AppHealthChecker.Probe.TcpSocket("127.0.0.1", port),
        new AppHealthChecker.Settings(
            Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1),
        scheduler,
        why -> reports.add(String.valueOf(why)));
    scheduler.step(1);
    assertThat(reports).singleElement().asString().startsWith("tcp probe 127.0.0.1:" + port);
  }

  @Test
  void badSettingsNameTheProbeField() {
    assertThatThrownBy(
            () ->
                new AppHealthChecker.Settings(
                    Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), 1, 3))
        .hasMessage("probe.periodSeconds: must be > 0");
    assertThatThrownBy(
            () ->
                new AppHealthChecker.Settings(
                    Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 0))
        .hasMessage("probe.failureThreshold: must be >= 1");
  }

  @Test
  void probesParseFromTheirUrlsAndBadOnesAreNamed() {
    assertThat(AppHealthChecker.Probe.parse("http://127.0.0.9:8080/healthz/ready"))
        .isEqualTo(new AppHealthChecker.Probe.HttpGet("127.0.0.9", 8080, "/healthz/ready"));
    assertThat(AppHealthChecker.Probe.parse("http://127.0.0.9:8080"))
        .isEqualTo(new AppHealthChecker.Probe.HttpGet("127.0.0.9", 8080, "/"));
    assertThat(AppHealthChecker.Probe.parse("tcp://127.0.0.9:5432"))
        .isEqualTo(new AppHealthChecker.Probe.TcpSocket("127.0.0.9", 5432));
    assertThatThrownBy(() -> AppHealthChecker.Probe.parse("grpc://127.0.0.9:9000"))
        .hasMessageContaining("scheme must be http or tcp");
    assertThatThrownBy(() -> AppHealthChecker.Probe.parse("http://127.0.0.9/healthz"))
        .hasMessageContaining("explicit port");
    assertThatThrownBy(() -> AppHealthChecker.Probe.parse("http://[bad"))
        .hasMessageContaining("not a URL");
  }
}
