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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as the runner starts it ({@link WorkloadAgent}): real clock, a real scheduled executor,
 * a 4 s certificate lifetime, readiness on 127.0.0.1.
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
    HttpClient http = HttpClient.newHttpClient();
    try (CaServer caServer =
            CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens);
        WorkloadAgent agent =
            WorkloadAgent.start(
                AgentConfig.defaults(
                        id,
                        "127.0.0.1",
                        caServer.port(),
                        new CaTrust.PemFile(caDir.resolve("root-cert.pem")),
                        tokens.issue("weather", "forecast"))
                    .withRequestedTtl(Duration.ofSeconds(4)),
                runDir.resolve("workload-spiffe-uds/socket"),
                new InetSocketAddress("127.0.0.1", 0),
                List.of());
        SdsTestClient client = new SdsTestClient(agent.sdsSocket())) {
      client.subscribe("", "", "default");
      DiscoveryResponse r1 = client.next();
      client.ack(r1, "default");
      URI ready =
          URI.create("http://127.0.0.1:" + agent.healthPort().orElseThrow() + "/healthz/ready");
      HttpResponse<String> after =
          http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(after.statusCode()).isEqualTo(200);
      assertThat(after.body()).isEqualTo("ready\n");

      DiscoveryResponse r2 = client.next(); // pushed at ~80% of 4 s
      X509Certificate first = leaf(r1);
      X509Certificate second = leaf(r2);
      assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
      assertThat(Pem.uris(second)).containsExactly(id.spiffeId());
    } finally {
      http.close();
    }
  }

  @Test
  void readinessNamesWhatIsMissing() throws Exception {
    // No CA listens here: the agent never gets a certificate.
    HttpClient http = HttpClient.newHttpClient();
    try (WorkloadAgent agent =
        WorkloadAgent.start(
            AgentConfig.defaults(
                new WorkloadIdentity("cluster.local", "weather", "forecast"),
                "127.0.0.1",
                1,
                new CaTrust.PemFile(caDir.resolve("missing.pem")),
                "token"),
            runDir.resolve("socket"),
            new InetSocketAddress("127.0.0.1", 0),
            List.of(new HealthServer.Check("proxy listeners", () -> false)))) {
      URI ready =
          URI.create("http://127.0.0.1:" + agent.healthPort().orElseThrow() + "/healthz/ready");
      HttpResponse<String> r =
          http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).isEqualTo("not ready: workload certificate, proxy listeners\n");
      HttpResponse<String> other =
          http.send(
              HttpRequest.newBuilder(ready.resolve("/healthz/readyx")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(other.statusCode()).isEqualTo(404);
    } finally {
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
