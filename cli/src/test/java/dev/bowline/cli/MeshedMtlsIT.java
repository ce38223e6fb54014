package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bowline up} with workload identities: the runner's CA and agents give every sidecar its
 * SPIFFE certificate over SDS, and auto mTLS makes sidecar-to-sidecar traffic mutual TLS. Proven on
 * the wire (a raw TLS probe sees forecast's SPIFFE id and is refused without a client certificate)
 * and by the sidecars' own TLS stats; PERMISSIVE (the default) also takes a plaintext client, a
 * STRICT PeerAuthentication dropped into a watched config directory refuses it while the mesh keeps
 * working.
 */
class MeshedMtlsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private static final String FRONTEND = TestNet.ip("127.0.0.190");
  private static final String FORECAST_V1 = TestNet.ip("127.0.0.191");

  /** The control plane's (and CA's) address, in this run's {@link TestNet} block. */
  private static final String CONTROL_PLANE = MeshedWeather.CONTROL_PLANE;

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static long stat(String admin, String name) throws Exception {
    for (String line : get(admin + "/stats").body().lines().toList()) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  /** Whether a plaintext request straight to forecast v1's inbound listener gets a 200. */
  private static boolean plaintextAccepted() {
    try {
      return get("http://" + FORECAST_V1 + ":3002/api/forecast?city=beijing").statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  private static void dashboardsWork(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      HttpResponse<String> dash = get("http://" + FRONTEND + ":3000/api/dashboard?city=beijing");
      assertThat(dash.statusCode()).as(dash.body()).isEqualTo(200);
      JsonNode d = JSON.readTree(dash.body());
      assertThat(d.at("/forecast/ok").asBoolean()).as(dash.body()).isTrue();
      assertThat(d.at("/advertisement/ok").asBoolean()).as(dash.body()).isTrue();
    }
  }

  @Test
  void sidecarsTalkMutualTlsAndStrictRefusesPlaintext() throws Exception {
    Path security = Files.createDirectories(dir.resolve("security"));
    MeshedWeather mesh = MeshedWeather.up(dir, FRONTEND, List.of(security));
    Process runner = mesh.runner;
    started.add(runner);
    String output = mesh.output();
    assertThat(output)
        .as(output)
        .contains("security: CA " + CONTROL_PLANE + ":15012")
        .contains("bowline up: 5 of 5 instances ready");

    // The first request pays every hop's first handshake and class loading: allow it time.
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                get("http://" + FRONTEND + ":3000/api/dashboard?city=beijing").statusCode() == 200);
    dashboardsWork(10);
    // Both ends of frontend -> forecast v1 counted TLS handshakes: the client cluster (auto mTLS
    // picked the tlsMode-istio socket) and the server's inbound listener.
    assertThat(
            stat(
                "http://" + FRONTEND + ":15000",
                "cluster.outbound|3002|v1|forecast.weather.svc.cluster.local.ssl.handshake"))
        .isPositive();
    assertThat(
            stat(
                "http://" + FORECAST_V1 + ":15000",
                "listener." + FORECAST_V1 + "_3002.ssl.handshake"))
        .isPositive();

    // On the wire: forecast's sidecar presents its SPIFFE id, signed by the runner's CA ...
    X509Certificate root =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new ByteArrayInputStream(
                        Files.readAllBytes(dir.resolve("run/ca/root-cert.pem"))));
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", root);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    boolean refused;
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(FORECAST_V1, 3002)) {
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"istio-peer-exchange", "istio"});
      s.setSSLParameters(p);
      s.startHandshake();
      X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      List<Object> names = sans.stream().map(l -> (Object) l.get(1)).toList();
      assertThat(names).containsExactly("spiffe://cluster.local/ns/weather/sa/forecast");
      // ... and, without a client certificate, answers nothing
      try {
        s.getOutputStream()
            .write(
                "GET /api/forecast?city=beijing HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        refused = in.read() < 0;
      } catch (IOException e) {
        refused = true;
      }
    }
    assertThat(refused).as("a TLS client without certificate is refused").isTrue();

    // PERMISSIVE (no PeerAuthentication): a plaintext client is served too.
    assertThat(plaintextAccepted()).isTrue();

    // STRICT for the namespace (PERMISSIVE kept for the frontend, which the test calls
    // directly): plaintext to forecast refused, the mesh (mTLS) keeps working.
    Files.writeString(
        security.resolve("strict.yaml"),
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: weather}
        spec:
          mtls: {mode: STRICT}
        ---
        # the frontend is the edge here (no ingress gateway): its own policy wins over the namespace's
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: frontend-edge, namespace: weather}
        spec:
          selector: {matchLabels: {app: frontend}}
          mtls: {mode: PERMISSIVE}
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> !plaintextAccepted());
    dashboardsWork(5);

    // Back to PERMISSIVE: plaintext accepted again.
    Files.delete(security.resolve("strict.yaml"));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(MeshedMtlsIT::plaintextAccepted);

    for (String instance : List.of("frontend-v1-0", "forecast-v1-0", "recommendation-v1-0")) {
      assertThat(Files.readString(dir.resolve("run/" + instance + ".weather/sidecar.log")))
          .as(instance)
          .doesNotContain("xds_nack");
    }
    runner.destroy();
    assertThat(runner.waitFor(UpProcess.STOP_SECONDS, TimeUnit.SECONDS)).isTrue();
  }
}
