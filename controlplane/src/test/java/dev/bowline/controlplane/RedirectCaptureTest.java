package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.Proxy;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A REDIRECT-mode sidecar ({@code INTERCEPTION_MODE: REDIRECT}) driven by Bowline's own control
 * plane: our proxy accepts the LDS istiod's shape gives it ({@code virtualInbound} with the {@code
 * original_dst} listener filter, {@code virtualOutbound} with {@code use_original_dst}, the {@code
 * bind_to_port: false} port listeners), and a connection the kernel's NAT redirects (real iptables
 * {@code REDIRECT} rules for this test's own addresses) to a service address goes through {@code
 * virtualOutbound} to the service port's listener, then (the service's endpoint being this same
 * workload, redirected again) through {@code virtualInbound}'s chain for the app's port to the app.
 * Needs root and iptables; without them it fails saying so.
 */
class RedirectCaptureTest {
  static final String APP_IP = "127.0.7.177"; // the workload: its app and its sidecar
  static final String VIP = "127.0.7.178";
  static final String CLIENT = "127.0.7.179"; // the source address the rule matches

  @TempDir Path dir;
  LocalMesh mesh;
  HttpServer app;
  final List<List<String>> rules = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (List<String> rule : rules) {
      List<String> del = new ArrayList<>(List.of("iptables", "-t", "nat", "-D"));
      del.addAll(rule);
      iptables(del);
    }
    if (mesh != null) {
      mesh.close();
    }
    if (app != null) {
      app.stop(0);
    }
  }

  @Test
  void aRedirectModeSidecarAcksItsVirtualListenersAndARedirectedConnectionReachesTheService()
      throws Exception {
    String usable = iptables(List.of("iptables", "-t", "nat", "-S", "OUTPUT"));
    assertThat(usable)
        .as(
            "this test needs iptables NAT (root and the 'iptables' command, Debian package"
                + " 'iptables'; .ci/run installs it)")
        .isNull();
    app = LocalMesh.app("echo", APP_IP);
    int outbound = LocalMesh.freePort("0.0.0.0");
    int inbound = LocalMesh.freePort("0.0.0.0");
    Path meshConfig = dir.resolve("mesh.yaml");
    Files.writeString(
        meshConfig,
        "proxyListenPort: %d\nproxyInboundListenPort: %d\n".formatted(outbound, inbound));
    Path config = Files.createDirectory(dir.resolve("config"));
    Files.writeString(
        config.resolve("echo.yaml"),
        LocalMesh.plaintextEcho(
            """
            addresses: [%1$s]
            ports: [{number: 8080, name: http}]
            endpoints: [{address: %2$s, ports: {http: %3$d}, labels: {app: echo}}]
            """
                .formatted(VIP, APP_IP, app.getAddress().getPort())));
    mesh = LocalMesh.start(config, meshConfig);
    Proxy sidecar =
        mesh.sidecar(
            LocalMesh.SOTW,
            APP_IP,
            "echo-1",
            List.of("INTERCEPTION_MODE: REDIRECT", "LABELS: {app: echo}"),
            "");

    // the LDS is accepted: the capture listeners are bound, the port listener known, not bound
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                sidecar.listenerAddress("virtualOutbound").isPresent()
                    && sidecar.listenerAddress("virtualInbound").isPresent()
                    && sidecar.snapshot().listeners().containsKey("0.0.0.0_8080"));
    assertThat(sidecar.listenerAddress("0.0.0.0_8080")).isEmpty();
    assertThat(LocalMesh.counter(sidecar.stats().text(), "listener_manager.lds.update_rejected"))
        .isLessThanOrEqualTo(0);

    // the client's connection to the service address, redirected to virtualOutbound; the
    // sidecar's upstream connection to the endpoint (this same workload), redirected to
    // virtualInbound, whose inbound cluster (ORIGINAL_DST, bound to 127.0.0.6, which the rule
    // lets through as Istio's does) reaches the app
    int appPort = app.getAddress().getPort();
    redirect(List.of("-s", CLIENT, "-d", VIP, "--dport", "8080"), outbound);
    redirect(List.of("!", "-s", "127.0.0.6", "-d", APP_IP, "--dport", "" + appPort), inbound);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get(VIP, 8080, "echo.shop.example").endsWith("echo"));
    String stats = sidecar.stats().text();
    // handed off: counted by the port's listener, not by virtualOutbound
    assertThat(LocalMesh.counter(stats, "listener.0.0.0.0_8080.downstream_cx_total")).isPositive();
    assertThat(LocalMesh.counter(stats, "listener.0.0.0.0_" + outbound + ".downstream_cx_total"))
        .isLessThanOrEqualTo(0);
    // and in through virtualInbound's chain for the app's port
    assertThat(LocalMesh.counter(stats, "listener.0.0.0.0_" + inbound + ".downstream_cx_total"))
        .isPositive();
    assertThat(LocalMesh.counter(stats, "http.inbound_0.0.0.0_" + appPort + ".downstream_rq_total"))
        .isPositive();
  }

  /** Adds a REDIRECT rule of {@code match} (this test's addresses) to local port {@code to}. */
  void redirect(List<String> match, int to) {
    List<String> rule = new ArrayList<>(List.of("OUTPUT", "-p", "tcp"));
    rule.addAll(match);
    rule.addAll(List.of("-j", "REDIRECT", "--to-ports", Integer.toString(to)));
    List<String> add = new ArrayList<>(List.of("iptables", "-t", "nat", "-I"));
    add.addAll(rule);
    assertThat(iptables(add)).isNull();
    rules.add(rule);
  }

  /** A GET from {@link #CLIENT} to {@code ip:port}: the response, head and body. */
  static String get(String ip, int port, String host) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(CLIENT, 0));
      s.connect(new InetSocketAddress(ip, port), 10_000);
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** Runs an iptables command: null when it succeeded, else what went wrong. */
  static String iptables(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", command) + ": timed out";
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.exitValue() == 0 ? null : String.join(" ", command) + ": " + out;
    } catch (IOException e) {
      return "cannot run iptables: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
