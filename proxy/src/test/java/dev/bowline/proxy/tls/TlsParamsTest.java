package dev.bowline.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.TestPki;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tls_params} enforced on real handshakes, with BoringSSL and with the JDK's engine: a
 * minimum of TLS 1.3 refuses a TLS 1.2-only client, a cipher restriction shows in the negotiated
 * suite and refuses a client with none of the allowed suites, curves restrict the key exchange.
 */
class TlsParamsTest {
  private static final String CLIENT = "spiffe://cluster.local/ns/a/sa/client";
  private final TestPki pki = new TestPki("params root");
  private final TestPki.Issued server = pki.issue("spiffe://cluster.local/ns/a/sa/server");

  private TlsContexts contexts(boolean boringSsl) {
    return new TlsContexts(new SecretStore(), boringSsl);
  }

  private CommonTls common(TlsParams params) {
    return new CommonTls(
        List.of(new CertificateSource.Inline(server.certPem(), server.keyPem())),
        Optional.of(new TrustSource.Inline(pki.rootPem())),
        List.of(),
        List.of(),
        params);
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void aMinimumOfTls13RefusesATls12OnlyClient(boolean boringSsl) throws Exception {
    TlsContexts contexts = contexts(boringSsl);
    var tls =
        new DownstreamTls(common(new TlsParams("TLSv1.3", "TLSv1.3", List.of(), List.of())), true);
    TestPki.Issued client = pki.issue(CLIENT);
    try (var s = new TlsServerHarness(() -> contexts.server(tls))) {
      assertThat(s.call(pki, client, List.of("TLSv1.2"), List.of())).startsWith("refused");
      assertThat(s.call(pki, client, List.of(), List.of())).startsWith("TLSv1.3 ");
    }
    // the default still serves TLS 1.2 clients
    var lenient = new DownstreamTls(common(TlsParams.DEFAULT), true);
    try (var s = new TlsServerHarness(() -> contexts.server(lenient))) {
      assertThat(s.call(pki, client, List.of("TLSv1.2"), List.of())).startsWith("TLSv1.2 ");
    }
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void aCipherRestrictionIsWhatTls12Negotiates(boolean boringSsl) throws Exception {
    TlsContexts contexts = contexts(boringSsl);
    var tls =
        new DownstreamTls(
            common(
                new TlsParams(
                    "TLSv1.2",
                    "TLSv1.3",
                    List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
                    List.of())),
            true);
    TestPki.Issued client = pki.issue(CLIENT);
    try (var s = new TlsServerHarness(() -> contexts.server(tls))) {
      assertThat(s.call(pki, client, List.of("TLSv1.2"), List.of()))
          .isEqualTo("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 " + CLIENT);
      assertThat(
              s.call(
                  pki,
                  client,
                  List.of("TLSv1.2"),
                  List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")))
          .startsWith("refused");
      // TLS 1.3 keeps working with its own suites
      assertThat(s.call(pki, client, List.of(), List.of())).startsWith("TLSv1.3 ");
    }
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void istiodsInboundListServesWhereTheProviderLacksSomeSuites(boolean boringSsl) throws Exception {
    TlsContexts contexts = contexts(boringSsl);
    var tls =
        new DownstreamTls(
            common(
                new TlsParams(
                    "TLSv1.2",
                    "TLSv1.3",
                    List.of(
                        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                        "TLS_RSA_WITH_AES_256_GCM_SHA384",
                        "TLS_RSA_WITH_AES_128_GCM_SHA256"),
                    List.of())),
            true);
    TestPki.Issued client = pki.issue(CLIENT);
    try (var s = new TlsServerHarness(() -> contexts.server(tls))) {
      assertThat(s.call(pki, client, List.of("TLSv1.2"), List.of()))
          .startsWith("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_");
      assertThat(s.call(pki, client, List.of(), List.of())).startsWith("TLSv1.3 ");
    }
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void upstreamContextsTakeTheSameParameters(boolean boringSsl) throws Exception {
    TlsContexts contexts = contexts(boringSsl);
    var tls =
        new UpstreamTls(
            common(
                new TlsParams(
                    "TLSv1.2",
                    "TLSv1.2",
                    List.of("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
                    List.of("P-384"))),
            "");
    SSLEngine engine = contexts.client(tls).newEngine(ByteBufAllocator.DEFAULT);
    assertThat(engine.getEnabledProtocols()).contains("TLSv1.2").doesNotContain("TLSv1.3");
    assertThat(engine.getEnabledCipherSuites())
        .contains("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        .doesNotContain("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  }
}
