package dev.bowline.ca;

import static dev.bowline.ca.TestPki.channel;
import static dev.bowline.ca.TestPki.request;
import static dev.bowline.ca.TestPki.stub;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bowline.ca.proto.IstioCertificateResponse;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CSR made by another implementation (the openssl command) gets a certificate that OpenSSL's own
 * strict verifier accepts for TLS client and server use: our certificates are not only Java-shaped.
 */
class OpensslInteropIT {
  private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

  @TempDir Path dir;

  @Test
  void opensslCsrInOpensslVerifiedCertificateOut() throws Exception {
    assumeTrue(run(dir, "openssl", "version").exitCode() == 0, "openssl is not installed");
    SecureRandom random = new SecureRandom();
    CertificateAuthority ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(dir.resolve("ca"))),
            Clock.systemUTC(),
            random);
    LocalTokenIssuer tokens = new LocalTokenIssuer(random);

    Result key =
        run(
            dir,
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "key.pem");
    assertThat(key.exitCode()).as(key.output()).isZero();
    Result csr =
        run(
            dir,
            "openssl",
            "req",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/O=openssl",
            "-addext",
            "subjectAltName=URI:" + SLEEP,
            "-out",
            "csr.pem");
    assertThat(csr.exitCode()).as(csr.output()).isZero();

    IstioCertificateResponse response;
    try (CaServer server =
        CaServer.start(ca, CaServerConfig.defaults("127.0.0.1").withPort(0), tokens)) {
      ManagedChannel ch = channel(server.port(), ca.trustBundle().roots(), null, List.of());
      try {
        response =
            request(
                stub(ch, "Bearer " + tokens.issue("default", "sleep")),
                Files.readString(dir.resolve("csr.pem")),
                0);
      } finally {
        TestPki.close(ch);
      }
    }
    Files.writeString(dir.resolve("leaf.pem"), response.getCertChain(0));
    Files.writeString(dir.resolve("roots.pem"), response.getCertChain(1));

    for (String purpose : List.of("sslclient", "sslserver")) {
      Result verify =
          run(
              dir,
              "openssl",
              "verify",
              "-x509_strict",
              "-purpose",
              purpose,
              "-CAfile",
              "roots.pem",
              "leaf.pem");
      assertThat(verify.exitCode()).as(verify.output()).isZero();
      assertThat(verify.output()).contains("leaf.pem: OK");
    }
    Result text = run(dir, "openssl", "x509", "-in", "leaf.pem", "-noout", "-text");
    assertThat(text.output())
        .contains("X509v3 Subject Alternative Name: critical", "URI:" + SLEEP)
        .contains("TLS Web Server Authentication, TLS Web Client Authentication")
        .contains("ASN1 OID: prime256v1");
    Result pub = run(dir, "openssl", "pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem");
    assertThat(pub.exitCode()).as(pub.output()).isZero();
    String pubPem = Files.readString(dir.resolve("pub.pem"));
    byte[] opensslPublicKey =
        Base64.getMimeDecoder()
            .decode(
                pubPem
                    .replace("-----BEGIN PUBLIC KEY-----", "")
                    .replace("-----END PUBLIC KEY-----", ""));
    assertThat(TestPki.parse(response.getCertChain(0)).getFirst().getPublicKey().getEncoded())
        .isEqualTo(opensslPublicKey);
  }

  record Result(int exitCode, String output) {}

  private static Result run(Path dir, String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p =
          new ProcessBuilder(new ArrayList<>(List.of(command)))
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      return new Result(127, e.getMessage());
    }
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(124, "timed out: " + String.join(" ", command));
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
