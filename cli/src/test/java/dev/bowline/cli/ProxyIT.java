package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./bowline proxy -c bootstrap.yaml} as a real process: readiness, SIGTERM drain, quit. */
class ProxyIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final String IP = TestNet.ip("127.0.6.40");
  private static final String BACKEND_IP = TestNet.ip("127.0.6.41");

  @TempDir Path dir;
  StaticProxyFixture fixture;
  int listenPort;
  int adminPort;
  Process proxy;

  @BeforeEach
  void start() throws Exception {
    fixture = new StaticProxyFixture(IP, BACKEND_IP);
    listenPort = fixture.freePort();
    adminPort = fixture.freePort();
    Path bootstrap = fixture.bootstrap(dir, "it", listenPort, adminPort);
    proxy =
        new ProcessBuilder(
                ROOT.resolve("bowline").toString(),
                "proxy",
                "-c",
                bootstrap.toString(),
                "--concurrency",
                "1",
                "--drain-time-s",
                "5")
            .directory(ROOT.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(dir.resolve("err.txt").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(adminPort, "/ready").statusCode() == 200);
  }

  @AfterEach
  void stop() {
    proxy.destroyForcibly();
    fixture.close();
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return fixture.get(port, path, Duration.ofSeconds(30));
  }

  @Test
  void sigtermLetsTheRequestInFlightFinishThenExits() throws Exception {
    assertThat(get(listenPort, "/hi").body()).isEqualTo("hello from /hi");
    CompletableFuture<HttpResponse<String>> slow = fixture.getAsync(listenPort, "/slow");
    // SIGTERM once the request is at the backend (a fixed 300 ms sleep could fire before it had
    // even reached the proxy on a loaded machine: refused, not drained).
    assertThat(fixture.slowArrived.await(30, TimeUnit.SECONDS)).isTrue();
    proxy.destroy(); // SIGTERM
    HttpResponse<String> r = slow.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from /slow");
    assertThat(r.headers().firstValue("connection")).contains("close");
    assertThat(proxy.waitFor(60, TimeUnit.SECONDS)).as("the proxy exits after draining").isTrue();
  }

  @Test
  void quitquitquitStopsTheProxy() throws Exception {
    var r = fixture.post(adminPort, "/quitquitquit");
    assertThat(r.body()).isEqualTo("OK\n");
    assertThat(proxy.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(proxy.exitValue()).isZero();
  }
}
