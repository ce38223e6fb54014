package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.ca.CaConfig;
import dev.bowline.ca.CaServer;
import dev.bowline.ca.CaServerConfig;
import dev.bowline.ca.CertificateAuthority;
import dev.bowline.ca.LocalTokenIssuer;
import dev.bowline.ca.RootSource;
import dev.bowline.ca.WorkloadIdentity;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as the runner starts it: real clock, a real scheduled executor, a 4 s certificate
 * lifetime, readiness on 127.0.0.1.
 */
class RealTimeAgentTest {
  @TempDir Path caDir;
  @TempDir Path runDir;

  @Test
  void rotatesOnTheRealClockAndReportsReadiness() throws Exception {
    SecureRandom random = new SecureRandom();
    WorkloadIdentity id = new WorkloadIdentity("cluster.local", "weather", "forecast");
    CertificateAuthority ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(caDir)), Clock.systemUTC(), random);
    LocalTokenIssuer tokens = new LocalTokenIssuer(random);
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    HttpClient http = HttpClient.newHttpClient();
    try (CaServer caServer =
            CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
        CertificateManager manager =
            new CertificateManager(
                AgentConfig.defaults(
                        id,
                        "127.0.0.1",
                        caServer.port(),
                        new CaTrust.Fixed(ca.trustBundle()),
                        tokens.issue("weather", "forecast"))
                    .withRequestedTtl(Duration.ofSeconds(4)),
                Clock.systemUTC(),
                Scheduler.of(executor),
                random);
        SdsServer sds = SdsServer.start(manager, runDir.resolve("socket"), Clock.systemUTC());
        HealthServer health =
            HealthServer.start(
                new InetSocketAddress("127.0.0.1", 0), List.of(HealthServer.certificate(manager)));
        SdsTestClient client = new SdsTestClient(sds.socket())) {
      URI ready = URI.create("http://127.0.0.1:" + health.port() + HealthServer.READY_PATH);
      HttpResponse<String> before =
          http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(before.statusCode()).isEqualTo(503);
      assertThat(before.body()).isEqualTo("not ready: workload certificate\n");

      client.subscribe("", "", "default");
      manager.start();
      DiscoveryResponse r1 = client.next();
      client.ack(r1, "default");
      HttpResponse<String> after =
          http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(after.statusCode()).isEqualTo(200);

      DiscoveryResponse r2 = client.next(); // pushed at ~80% of 4 s
      X509Certificate first = leaf(r1);
      X509Certificate second = leaf(r2);
      assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
      assertThat(Pem.uris(second)).containsExactly(id.spiffeId());
    } finally {
      executor.shutdownNow();
      http.close();
    }
  }

  private static X509Certificate leaf(DiscoveryResponse r) throws Exception {
    return Certs.parse(
            SdsTestClient.secrets(r)
                .get("default")
                .getTlsCertificate()
                .getCertificateChain()
                .getInlineBytes()
                .toString(StandardCharsets.US_ASCII))
        .getFirst();
  }
}
