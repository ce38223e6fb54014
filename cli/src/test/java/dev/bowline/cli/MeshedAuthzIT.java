package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * AuthorizationPolicy end to end: {@code bowline up} runs the Weather Forecast mesh with mTLS (the
 * runner's CA and agents), plus a TCP echo workload; policies dropped into a watched config
 * directory become RBAC filters in the real sidecars. Proves: only frontend's service account may
 * call forecast (advertisement's sidecar gets 403 {@code RBAC: access denied}); namespace- and
 * ipBlocks-based rules; a DENY beats an ALLOW; deny-all and allow-nothing; a TCP port's network
 * RBAC closes denied connections; an invalid policy is refused and the last good config serves on.
 */
class MeshedAuthzIT {
  private static final Path ROOT = UpProcess.ROOT;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private static final String FRONTEND = TestNet.ip("127.0.0.170");
  private static final String FORECAST_V1 = TestNet.ip("127.0.0.171");
  private static final String ADVERTISEMENT = TestNet.ip("127.0.0.173");
  private static final String ECHO = TestNet.ip("127.0.0.175");
  private static final String CONTROL_PLANE = TestNet.ip("127.0.0.169");

  /** The Weather mesh plus a TCP echo service (a single-file Java program). */
  private static final String MESH =
      """
      workloads:
      - {name: frontend-v1, namespace: weather, labels: {app: frontend, version: v1}, ports: [{name: http-frontend, number: 3000}], serviceAccount: frontend, role: frontend}
      - {name: forecast-v1, namespace: weather, labels: {app: forecast, version: v1}, ports: [{name: http-forecast, number: 3002}], serviceAccount: forecast, role: forecast}
      - {name: forecast-v2, namespace: weather, labels: {app: forecast, version: v2}, ports: [{name: http-forecast, number: 3002}], serviceAccount: forecast, role: forecast}
      - {name: advertisement-v1, namespace: weather, labels: {app: advertisement, version: v1}, ports: [{name: http-advertisement, number: 3003}], serviceAccount: advertisement, role: advertisement}
      - {name: recommendation-v1, namespace: weather, labels: {app: recommendation, version: v1}, ports: [{name: http-recommendation, number: 3005}, {name: grpc-recommendation, number: 3006}], serviceAccount: recommendation, role: recommendation}
      - name: echo-v1
        namespace: weather
        labels: {app: echo, version: v1}
        ports: [{name: tcp-echo, number: 7000}]
        serviceAccount: echo
        command: [%s, %s, "${BOWLINE_ADDRESS}", "${BOWLINE_PORT_TCP_ECHO}"]
      """;

  private static final String ECHO_SOURCE =
      """
      import java.net.*;
      public class Echo {
        public static void main(String[] a) throws Exception {
          try (ServerSocket s = new ServerSocket(Integer.parseInt(a[1]), 50, InetAddress.getByName(a[0]))) {
            while (true) {
              Socket c = s.accept();
              Thread.ofVirtual().start(() -> {
                try (c) { c.getInputStream().transferTo(c.getOutputStream()); } catch (Exception e) { }
              });
            }
          }
        }
      }
      """;

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** forecast, called from advertisement's sidecar (its egress listener, its identity). */
  private static HttpResponse<String> forecastFromAdvertisement() throws Exception {
    HttpClient viaAd =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(ADVERTISEMENT, 15001)))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    return viaAd.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://forecast.weather.svc.cluster.local:3002/api/forecast?city=beijing"))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The dashboard's view of forecast: whether frontend's call to it succeeded. */
  private static boolean dashboardForecastOk() throws Exception {
    HttpResponse<String> dash = get("http://" + FRONTEND + ":3000/api/dashboard?city=beijing");
    assertThat(dash.statusCode()).as(dash.body()).isEqualTo(200);
    JsonNode d = JSON.readTree(dash.body());
    assertThat(d.at("/advertisement/ok").asBoolean()).as(dash.body()).isTrue();
    return d.at("/forecast/ok").asBoolean();
  }

  /** A plaintext request to forecast v1's inbound listener from source address {@code from}. */
  private static int plaintextStatusFrom(String from) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(from, 0));
      s.connect(new InetSocketAddress(FORECAST_V1, 3002), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET /api/forecast?city=beijing HTTP/1.1\r\nHost: forecast\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      return Integer.parseInt(head.substring(9, 12));
    }
  }

  /**
   * Sends a line to the echo service (plaintext, its inbound TCP chain); what comes back. A whole
   * line: the listener's inspector reads up to the first newline to tell HTTP from other bytes.
   */
  private static String echo(String text) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      s.connect(new InetSocketAddress(ECHO, 7000), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[text.length()];
      int n = 0;
      try {
        while (n < buf.length) {
          int r = in.read(buf, n, buf.length - n);
          if (r < 0) {
            break;
          }
          n += r;
        }
      } catch (java.net.SocketException e) {
        // reset: denied
      }
      return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
  }

  private static long sumStat(String admin, String suffix) throws Exception {
    long sum = 0;
    for (String line : get(admin + "/stats").body().lines().toList()) {
      int colon = line.lastIndexOf(": ");
      if (colon > 0 && line.substring(0, colon).endsWith(suffix)) {
        sum += Long.parseLong(line.substring(colon + 2).trim());
      }
    }
    return sum;
  }

  private void policy(Path security, String yaml) throws IOException {
    Path tmp = security.resolve(".authz.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, security.resolve("authz.yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void authorizationPoliciesAreEnforcedBySidecars() throws Exception {
    Path security = Files.createDirectories(dir.resolve("security"));
    Path echoSource = dir.resolve("Echo.java");
    Files.writeString(echoSource, ECHO_SOURCE);
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path meshFile = dir.resolve("mesh.yaml");
    Files.writeString(meshFile, MESH.formatted(java, echoSource));
    UpProcess up =
        UpProcess.start(
            dir,
            "-f",
            meshFile.toString(),
            "--first-address",
            FRONTEND,
            "--control-plane-address",
            CONTROL_PLANE,
            "--config-dir",
            ROOT.resolve("samples/weather/config/base").toString(),
            "--config-dir",
            ROOT.resolve("samples/weather/config/local-mode").toString(),
            "--config-dir",
            security.toString(),
            "--ready-timeout-s",
            "120");
    started.add(up.process);
    String output = up.awaitSummary(Duration.ofSeconds(180));
    assertThat(output).as(output).contains("6 of 6 instances ready");
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(MeshedAuthzIT::dashboardForecastOk);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> echo("hi\n").equals("hi\n"));
    assertThat(forecastFromAdvertisement().statusCode()).isEqualTo(200);
    String forecastAdmin = "http://" + FORECAST_V1 + ":15000";

    // 1. Only frontend's service account may call forecast.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: forecast-callers, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          action: ALLOW
          rules:
          - from: [{source: {principals: ["cluster.local/ns/weather/sa/frontend"]}}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> forecastFromAdvertisement().statusCode() == 403);
    HttpResponse<String> denied = forecastFromAdvertisement();
    assertThat(denied.body()).isEqualTo("RBAC: access denied");
    for (int i = 0; i < 5; i++) {
      assertThat(dashboardForecastOk()).isTrue();
    }
    assertThat(plaintextStatusFrom(TestNet.ip("127.0.0.77"))).isEqualTo(403); // no identity at all
    assertThat(sumStat(forecastAdmin, ".rbac.denied")).isPositive();
    assertThat(sumStat(forecastAdmin, ".rbac.allowed")).isPositive();

    // 2. By namespace: any workload of weather (advertisement too), still no anonymous caller.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: forecast-callers, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          rules: [{from: [{source: {namespaces: [weather]}}]}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> forecastFromAdvertisement().statusCode() == 200);
    assertThat(plaintextStatusFrom(TestNet.ip("127.0.0.77"))).isEqualTo(403);
    assertThat(dashboardForecastOk()).isTrue();

    // 3. ipBlocks, and a DENY beating an ALLOW: everything allowed, but 127.0.0.77 denied.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-all, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-77, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          action: DENY
          rules: [{from: [{source: {ipBlocks: ["%s/32"]}}]}]
        """
            .formatted(TestNet.ip("127.0.0.77")));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(() -> plaintextStatusFrom(TestNet.ip("127.0.0.78")) == 200);
    assertThat(plaintextStatusFrom(TestNet.ip("127.0.0.77"))).isEqualTo(403);
    assertThat(forecastFromAdvertisement().statusCode()).isEqualTo(200);

    // 4. Deny-all for forecast (a DENY with an empty rule): the dashboard loses forecast only.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          action: DENY
          rules: [{}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !dashboardForecastOk());
    assertThat(plaintextStatusFrom(TestNet.ip("127.0.0.78"))).isEqualTo(403);

    // 5. Allow-nothing for the whole namespace (no selector, no rules): forecast and the TCP echo
    // are refused; the echo's network RBAC closes the connection.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-nothing, namespace: weather}
        spec: {}
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> echo("hello\n").isEmpty());
    assertThat(forecastFromAdvertisement().statusCode()).isEqualTo(403);
    assertThat(sumStat("http://" + ECHO + ":15000", "tcp.rbac.denied")).isPositive();

    // 6. A TCP port: an ALLOW by ipBlocks lets the tester's address through; an ALLOW rule with
    // HTTP-only fields (methods) is dropped on TCP, as Istio documents.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: echo-callers, namespace: weather}
        spec:
          selector: {matchLabels: {app: echo}}
          rules:
          - from: [{source: {ipBlocks: ["127.0.0.1/32"]}}]
          - to: [{operation: {methods: [GET]}}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> echo("hello\n").equals("hello\n"));
    assertThat(sumStat("http://" + ECHO + ":15000", "tcp.rbac.allowed")).isPositive();

    // 7. An invalid policy is refused with a clear error; the last good config keeps serving.
    policy(
        security,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: echo-callers, namespace: weather}
        spec:
          selector: {matchLabels: {app: echo}}
          rules:
          - from: [{source: {ipBlocks: ["not-an-ip"]}}]
          - when: [{key: request.nonsense, values: [x]}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () ->
                get("http://" + CONTROL_PLANE + ":15014/debug/configz")
                    .body()
                    .contains("not-an-ip"));
    String configz = get("http://" + CONTROL_PLANE + ":15014/debug/configz").body();
    assertThat(configz)
        .contains("spec.rules[0].from[0].source.ipBlocks[0]")
        .contains("spec.rules[1].when[0].key");
    assertThat(echo("still\n")).isEqualTo("still\n");

    for (String instance : List.of("frontend-v1-0", "forecast-v1-0", "echo-v1-0")) {
      assertThat(Files.readString(dir.resolve("run/" + instance + ".weather/sidecar.log")))
          .as(instance)
          .doesNotContain("xds_nack");
    }
    up.process.destroy();
    assertThat(up.process.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS)).isTrue();
  }
}
