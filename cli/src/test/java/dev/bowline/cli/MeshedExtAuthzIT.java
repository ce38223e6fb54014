package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * AuthorizationPolicy CUSTOM end to end: {@code bowline up} runs the Weather mesh with mTLS plus an
 * HTTP authorizer workload (a single-file Java program that denies requests with {@code x-deny:
 * yes}), named in the MeshConfig's {@code extensionProviders}; a CUSTOM policy on forecast makes
 * forecast's sidecar ask it, through its own outbound cluster, for the requests the policy's rules
 * match. Proves: allowed requests pass and carry the authorizer's header upstream, denied ones get
 * the authorizer's status and body, requests outside the rules are never checked, and a policy
 * naming an unknown provider denies everything.
 */
class MeshedExtAuthzIT {
  private static final Path ROOT = UpProcess.ROOT;
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private static final String FRONTEND = TestNet.ip("127.0.0.170");
  private static final String ADVERTISEMENT = TestNet.ip("127.0.0.173");
  private static final String CONTROL_PLANE = TestNet.ip("127.0.0.169");

  private static final String MESH =
      """
      workloads:
      - {name: frontend-v1, namespace: weather, labels: {app: frontend, version: v1}, ports: [{name: http-frontend, number: 3000}], serviceAccount: frontend, role: frontend}
      - {name: forecast-v1, namespace: weather, labels: {app: forecast, version: v1}, ports: [{name: http-forecast, number: 3002}], serviceAccount: forecast, role: forecast}
      - {name: advertisement-v1, namespace: weather, labels: {app: advertisement, version: v1}, ports: [{name: http-advertisement, number: 3003}], serviceAccount: advertisement, role: advertisement}
      - {name: recommendation-v1, namespace: weather, labels: {app: recommendation, version: v1}, ports: [{name: http-recommendation, number: 3005}, {name: grpc-recommendation, number: 3006}], serviceAccount: recommendation, role: recommendation}
      - name: ext-authz-v1
        namespace: weather
        labels: {app: ext-authz, version: v1}
        ports: [{name: http-authz, number: 8000}]
        serviceAccount: ext-authz
        command: [%s, %s, "${BOWLINE_ADDRESS}", "${BOWLINE_PORT_HTTP_AUTHZ}"]
      """;

  /** The authorizer: 403 with a body and a header for {@code x-deny: yes}, else 200. */
  private static final String AUTHZ_SOURCE =
      """
      import com.sun.net.httpserver.*;
      import java.net.*;
      public class Authz {
        public static void main(String[] a) throws Exception {
          HttpServer s = HttpServer.create(new InetSocketAddress(a[0], Integer.parseInt(a[1])), 50);
          s.createContext("/", ex -> {
            boolean deny = "yes".equals(ex.getRequestHeaders().getFirst("x-deny"));
            ex.getResponseHeaders().set("x-ext-authz-check-result", deny ? "denied" : "allowed");
            ex.getResponseHeaders().set("x-ext-authz-user", "checked-by-authz");
            byte[] body = (deny ? "denied by ext-authz for " + ex.getRequestURI() : "").getBytes();
            ex.sendResponseHeaders(deny ? 403 : 200, body.length == 0 ? -1 : body.length);
            if (body.length > 0) ex.getResponseBody().write(body);
            ex.close();
          });
          s.start();
        }
      }
      """;

  private static final String MESH_CONFIG =
      """
      extensionProviders:
      - name: weather-authz
        envoyExtAuthzHttp:
          service: ext-authz.weather.svc.cluster.local
          port: 8000
          timeout: 5s
          includeRequestHeadersInCheck: [x-deny]
          headersToUpstreamOnAllow: [x-ext-authz-user]
          headersToDownstreamOnDeny: [x-ext-authz-check-result]
      """;

  private static final String CUSTOM =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: forecast-ext-authz, namespace: weather}
      spec:
        selector: {matchLabels: {app: forecast}}
        action: CUSTOM
        provider: {name: %s}
        rules:
        - to: [{operation: {paths: ["/api/forecast*"]}}]
      """;

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  /** forecast {@code path} called from advertisement's sidecar, with {@code x-deny: deny}. */
  private static HttpResponse<String> forecast(String path, String deny) throws Exception {
    HttpClient viaAd =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(ADVERTISEMENT, 15001)))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    return viaAd.send(
        HttpRequest.newBuilder(URI.create("http://forecast.weather.svc.cluster.local:3002" + path))
            .header("x-deny", deny)
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void policy(Path security, String yaml) throws IOException {
    Path tmp = security.resolve(".authz.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, security.resolve("authz.yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static long sumStat(String admin, String suffix) throws Exception {
    long sum = 0;
    var r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(admin + "/stats")).build(),
            HttpResponse.BodyHandlers.ofString());
    for (String line : r.body().lines().toList()) {
      int colon = line.lastIndexOf(": ");
      if (colon > 0 && line.substring(0, colon).endsWith(suffix)) {
        sum += Long.parseLong(line.substring(colon + 2).trim());
      }
    }
    return sum;
  }

  @Test
  void customPolicySendsMatchedRequestsToTheAuthorizer() throws Exception {
    Path security = Files.createDirectories(dir.resolve("security"));
    Files.writeString(security.resolve("mesh.yaml"), MESH_CONFIG);
    Path source = dir.resolve("Authz.java");
    Files.writeString(source, AUTHZ_SOURCE);
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path meshFile = dir.resolve("mesh.yaml");
    Files.writeString(meshFile, MESH.formatted(java, source));
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
    assertThat(output).as(output).contains("5 of 5 instances ready");
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> forecast("/api/forecast?city=beijing", "yes").statusCode() == 200);

    // 1. CUSTOM on forecast: matched requests are checked; x-deny: yes gets the authorizer's 403
    policy(security, CUSTOM.formatted("weather-authz"));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> forecast("/api/forecast?city=beijing", "yes").statusCode() == 403);
    HttpResponse<String> denied = forecast("/api/forecast?city=beijing", "yes");
    assertThat(denied.body()).isEqualTo("denied by ext-authz for /api/forecast?city=beijing");
    assertThat(denied.headers().firstValue("x-ext-authz-check-result")).hasValue("denied");
    HttpResponse<String> allowed = forecast("/api/forecast?city=beijing", "no");
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    // outside the policy's rules: never sent to the authorizer, even with x-deny: yes
    assertThat(forecast("/api/health", "yes").statusCode()).isNotEqualTo(403);
    String forecastAdmin = "http://" + TestNet.ip("127.0.0.171") + ":15000";
    assertThat(sumStat(forecastAdmin, ".ext_authz.denied")).isPositive();
    assertThat(sumStat(forecastAdmin, ".ext_authz.ok")).isPositive();
    assertThat(sumStat(forecastAdmin, ".ext_authz.disabled")).isPositive();

    // 2. A provider the MeshConfig does not have: istiod's deny-all for the workload
    policy(security, CUSTOM.formatted("no-such-provider"));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> forecast("/api/forecast?city=beijing", "no").statusCode() == 403);
    assertThat(forecast("/api/forecast?city=beijing", "no").body())
        .isEqualTo("RBAC: access denied");
  }
}
