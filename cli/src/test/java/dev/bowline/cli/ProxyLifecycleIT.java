package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy process's life over {@code cli/target/bowline-proxy.jar} (what every proxy runs): {@code
 * --check}, bootstraps it cannot start from, SIGTERM's drain, {@code /quitquitquit}, each with its
 * exit code and message, and where its {@code main} thread waits (decision 0037, addendum 11).
 */
class ProxyLifecycleIT {
  private static final Path LAUNCHER = Path.of("target", "bowline-proxy.jar").toAbsolutePath();
  private static final String IP = TestNet.ip("127.0.7.80");
  private static final String BACKEND_IP = TestNet.ip("127.0.7.81");

  @TempDir Path dir;
  StaticProxyFixture fixture;
  final List<Process> started = new ArrayList<>();

  @BeforeEach
  void backend() throws IOException {
    fixture = new StaticProxyFixture(IP, BACKEND_IP);
  }

  @AfterEach
  void stop() {
    started.forEach(Process::destroyForcibly);
    fixture.close();
  }

  int freePort() throws IOException {
    return fixture.freePort();
  }

  Path bootstrap(int listenPort, int adminPort) throws IOException {
    return fixture.bootstrap(dir, "lifecycle", listenPort, adminPort);
  }

  Process start(String... args) throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-jar",
            LAUNCHER.toString(),
            "proxy"));
    argv.addAll(Arrays.asList(args));
    String run = "run-" + started.size();
    Process p =
        new ProcessBuilder(argv)
            .redirectOutput(dir.resolve(run + ".out").toFile())
            .redirectError(dir.resolve(run + ".err").toFile())
            .start();
    started.add(p);
    return p;
  }

  record Exit(int code, String out, String err) {}

  Exit finish(Process p) throws Exception {
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the proxy process ended").isTrue();
    String run = "run-" + started.indexOf(p);
    return new Exit(
        p.exitValue(),
        Files.readString(dir.resolve(run + ".out"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve(run + ".err"), StandardCharsets.UTF_8));
  }

  Process serving(Path bootstrap, int adminPort, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("-c", bootstrap.toString(), "--concurrency", "1"));
    args.addAll(Arrays.asList(more));
    Process p = start(args.toArray(String[]::new));
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(adminPort, "/ready").statusCode() == 200);
    return p;
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return fixture.get(port, path, Duration.ofSeconds(30));
  }

  CompletableFuture<HttpResponse<String>> getAsync(int port, String path) {
    return fixture.getAsync(port, path);
  }

  @Test
  void checkSaysOkAndExitsZeroForAGoodBootstrap() throws Exception {
    Path good = bootstrap(freePort(), freePort());
    Exit e = finish(start("-c", good.toString(), "--check"));
    assertThat(e.code()).isZero();
    assertThat(e.out()).isEqualTo(good + ": OK" + System.lineSeparator());
    assertThat(e.err()).isEmpty();
  }

  @Test
  void anUnknownFieldIsOneLineNamingTheFieldAndExitOne() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "node: {id: n1}\nbogus_field: 1\n");
    for (String[] args :
        List.of(
            new String[] {"-c", bad.toString(), "--check"}, new String[] {"-c", bad.toString()})) {
      Exit e = finish(start(args));
      assertThat(e.code()).as("%s", List.of(args)).isEqualTo(1);
      assertThat(e.err())
          .isEqualTo(
              "bowline proxy: "
                  + bad
                  + ": Cannot find field: bogus_field in message"
                  + " envoy.config.bootstrap.v3.Bootstrap"
                  + System.lineSeparator());
    }
  }

  @Test
  void anUnreadableBootstrapIsOneLineNamingTheFileAndExitOne() throws Exception {
    Path missing = dir.resolve("missing.yaml");
    Exit e = finish(start("-c", missing.toString()));
    assertThat(e.code()).isEqualTo(1);
    assertThat(e.err())
        .isEqualTo(
            "bowline proxy: " + missing + ": cannot read: " + missing + System.lineSeparator());
    Exit d = finish(start("-c", dir.toString(), "--check")); // a directory
    assertThat(d.code()).isEqualTo(1);
    assertThat(d.err())
        .startsWith("bowline proxy: " + dir + ": cannot read: ")
        .doesNotContain("\tat ");
  }

  @Test
  void anAdminAddressInUseNamesTheFieldAndTheAddressAndExitsOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(IP))) {
      Exit e = finish(start("-c", bootstrap(freePort(), taken.getLocalPort()).toString()));
      assertThat(e.code()).isEqualTo(1);
      assertThat(e.err())
          .contains(
              "bowline proxy: admin.address: cannot bind " + IP + ":" + taken.getLocalPort() + ": ")
          .contains("Address already in use")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void aStaticListenerWhosePortIsInUseNamesTheListenerAndAddressAndExitsOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(IP))) {
      int admin = freePort();
      Exit e = finish(start("-c", bootstrap(taken.getLocalPort(), admin).toString()));
      assertThat(e.code()).as("Envoy's bootstrap fails on a listener it cannot bind").isEqualTo(1);
      assertThat(e.err())
          .contains(
              "bowline proxy: static_resources.listeners: listener 'http' cannot bind '"
                  + IP
                  + ":"
                  + taken.getLocalPort()
                  + "': ")
          .contains("Address already in use")
          .doesNotContain("\tat ");
      assertThatThrownBy(() -> new Socket(IP, admin).close())
          .as("nothing of the failed start is left listening")
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void sigtermStopsAcceptingLetsTheRequestInFlightFinishAndExitsZero() throws Exception {
    int listen = freePort();
    int admin = freePort();
    Process p = serving(bootstrap(listen, admin), admin, "--drain-time-s", "60");
    assertThat(get(listen, "/hi").body()).isEqualTo("hello from /hi");
    CompletableFuture<HttpResponse<String>> held = getAsync(listen, "/held");
    assertThat(fixture.arrived.await(30, TimeUnit.SECONDS))
        .as("the request is at the backend")
        .isTrue();
    p.destroy(); // SIGTERM
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> new Socket(IP, listen).close())
                    .as("the listener no longer accepts")
                    .isInstanceOf(IOException.class));
    assertThat(p.isAlive()).as("draining: the request is still in flight").isTrue();
    fixture.release.countDown(); // the backend answers now
    HttpResponse<String> r = held.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from /held");
    assertThat(r.headers().firstValue("connection")).contains("close");
    Exit e = finish(p);
    assertThat(e.code()).as("Envoy exits 0 on SIGTERM; stderr: %s", e.err()).isZero();
    assertThat(e.err()).contains("event=proxy_stopped node=lifecycle").doesNotContain("\tat ");
  }

  @Test
  void sighupIsEatenAndSigusr1ReopensTheAccessLogsAsEnvoysAre() throws Exception {
    int listen = freePort();
    int admin = freePort();
    Path log = dir.resolve("access.log");
    Path rotated = dir.resolve("access.log.1");
    Path bootstrap = bootstrap(listen, admin);
    Files.writeString(
        bootstrap,
        Files.readString(bootstrap)
            .replace(
                "stat_prefix: in\n",
                """
                stat_prefix: in
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: "%s"}
                """
                    .formatted(log)));
    Process p = serving(bootstrap, admin);
    assertThat(get(listen, "/one").statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> Files.readString(log).contains("/one"));
    Files.move(log, rotated); // logrotate's move; the proxy still writes to the moved file

    // a JVM ends on SIGHUP; Envoy warns and goes on serving
    signal(p, "HUP");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> stderr(p).contains("caught and eating SIGHUP"));
    assertThat(p.isAlive()).isTrue();
    assertThat(get(listen, "/two").statusCode()).isEqualTo(200);

    // SIGUSR1: lines queued before go to the moved file, later ones to a new file at the path
    signal(p, "USR1");
    await().atMost(Duration.ofSeconds(30)).until(() -> stderr(p).contains("caught SIGUSR1"));
    assertThat(get(listen, "/three").statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> Files.readString(log).contains("/three"));
    assertThat(Files.readString(rotated))
        .contains("/one")
        .contains("/two")
        .doesNotContain("/three");
    assertThat(Files.readString(log)).doesNotContain("/two");

    p.destroy(); // SIGTERM still drains and exits 0
    Exit e = finish(p);
    assertThat(e.code()).as("stderr: %s", e.err()).isZero();
    assertThat(e.err()).contains("event=proxy_stopped node=lifecycle").doesNotContain("\tat ");
  }

  private static void signal(Process p, String name) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).inheritIO().start();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  private String stderr(Process p) throws IOException {
    return Files.readString(
        dir.resolve("run-" + started.indexOf(p) + ".err"), StandardCharsets.UTF_8);
  }

  @Test
  void sigtermClosesWhatIsStillOpenWhenTheDrainTimeIsOver() throws Exception {
    int listen = freePort();
    int admin = freePort();
    Process p = serving(bootstrap(listen, admin), admin, "--drain-time-s", "1");
    CompletableFuture<HttpResponse<String>> held = getAsync(listen, "/held");
    assertThat(fixture.arrived.await(30, TimeUnit.SECONDS))
        .as("the request is at the backend")
        .isTrue();
    p.destroy(); // SIGTERM; the backend answers only after the process has ended
    Exit e = finish(p);
    assertThat(e.code()).isZero();
    assertThat(held)
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .withCauseInstanceOf(IOException.class);
  }

  @Test
  void quitquitquitExitsZeroAtOnceAsEnvoysDoes() throws Exception {
    int listen = freePort();
    int admin = freePort();
    Process p = serving(bootstrap(listen, admin), admin, "--drain-time-s", "30");
    var r = fixture.post(admin, "/quitquitquit");
    assertThat(r.body()).isEqualTo("OK\n");
    Exit e = finish(p);
    assertThat(e.code()).isZero();
    assertThat(e.err()).contains("event=proxy_stopped node=lifecycle");
  }

  @Test
  void mainWaitsInAShallowFrameNotInsidePicocli() throws Exception {
    int listen = freePort();
    int admin = freePort();
    Process p = serving(bootstrap(listen, admin), admin);
    Process jcmd =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(p.pid()),
                "Thread.print")
            .redirectErrorStream(true)
            .start();
    String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(jcmd.waitFor(60, TimeUnit.SECONDS)).isTrue();
    int from = dump.indexOf("\"main\"");
    assertThat(from).as(dump).isNotNegative();
    int to = dump.indexOf("\n\n", from);
    String main = dump.substring(from, to < 0 ? dump.length() : to);
    assertThat(main)
        .contains("at dev.bowline.proxycli.ProxyMain.main(")
        .contains("at dev.bowline.proxy.Proxy.awaitTermination(")
        .doesNotContain("picocli");
  }
}
