package dev.bowline.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.proxy.TestPki;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The verified-chain cache: a chain that passed is not checked again until it expires (by the
 * injected clock), a rotated trust bundle starts from nothing, an untrusted chain is never
 * remembered. Over real handshakes with BoringSSL and with the JDK's engine.
 */
class PeerVerifierTest {
  private static final String CLIENT = "spiffe://cluster.local/ns/a/sa/client";
  private static final SdsSource SDS = new SdsSource.Grpc("sds-grpc");
  private static final SecretKey CERT = new SecretKey(SDS, "default");
  private static final SecretKey ROOTCA = new SecretKey(SDS, "ROOTCA");
  private static final DownstreamTls MTLS =
      new DownstreamTls(
          new CommonTls(
              List.of(new CertificateSource.Sds("default", SDS)),
              Optional.of(new TrustSource.Sds("ROOTCA", SDS)),
              List.of(new SanMatcher(SanMatcher.Type.URI, prefix("spiffe://cluster.local/"))),
              List.of()),
          true);

  private final TestPki a = new TestPki("root A");
  private final TestPki b = new TestPki("root B");
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private final InstantSource clock = () -> now.get();

  private static dev.bowline.proxy.config.StringMatch prefix(String p) {
    return new dev.bowline.proxy.config.StringMatch.Prefix(p, false);
  }

  private TlsContexts contexts(SecretStore store, boolean boringSsl, TestPki serverPki) {
    TestPki.Issued server = serverPki.issue("spiffe://cluster.local/ns/a/sa/server");
    store.put(CERT, new Secret.Certificate(server.certPem(), server.keyPem()));
    store.put(ROOTCA, new Secret.Validation(serverPki.rootPem(), List.of()));
    return new TlsContexts(store, boringSsl, clock);
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void aRememberedChainIsRefusedOnceItExpiresByTheClock(boolean boringSsl) throws Exception {
    SecretStore store = new SecretStore();
    TlsContexts contexts = contexts(store, boringSsl, a);
    TestPki.Issued client = a.issue(CLIENT);
    try (var server = new TlsServerHarness(() -> contexts.server(MTLS))) {
      assertThat(server.call(a, client, List.of(), List.of())).endsWith(" " + CLIENT);
      assertThat(server.call(a, client, List.of(), List.of())).endsWith(" " + CLIENT);
      // the client certificate lives 2 h (TestPki): past that the cached entry must not serve
      now.set(client.cert().getNotAfter().toInstant().plusSeconds(1));
      assertThat(server.call(a, client, List.of(), List.of())).startsWith("refused");
      now.set(Instant.now());
      assertThat(server.call(a, client, List.of(), List.of())).endsWith(" " + CLIENT);
    }
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void aRotatedTrustBundleRefusesChainsOfTheRemovedRoot(boolean boringSsl) throws Exception {
    SecretStore store = new SecretStore();
    TlsContexts contexts = contexts(store, boringSsl, a);
    TestPki.Issued client = a.issue(CLIENT);
    try (var server = new TlsServerHarness(() -> contexts.server(MTLS))) {
      assertThat(server.call(a, client, List.of(), List.of())).endsWith(" " + CLIENT);
      // overlap: both roots trusted, the old client still admitted
      store.put(ROOTCA, new Secret.Validation(a.rootPem() + b.rootPem(), List.of()));
      assertThat(server.call(a, client, List.of(), List.of())).endsWith(" " + CLIENT);
      assertThat(server.call(a, b.issue(CLIENT), List.of(), List.of())).endsWith(" " + CLIENT);
      // root A retired: its chain was verified (and cached) before, and is refused now
      store.put(ROOTCA, new Secret.Validation(b.rootPem(), List.of()));
      assertThat(server.call(a, client, List.of(), List.of())).startsWith("refused");
      assertThat(server.call(a, b.issue(CLIENT), List.of(), List.of())).endsWith(" " + CLIENT);
    }
  }

  @ParameterizedTest(name = "boringSsl={0}")
  @ValueSource(booleans = {true, false})
  void anUntrustedChainIsRefusedEveryTime(boolean boringSsl) throws Exception {
    SecretStore store = new SecretStore();
    TlsContexts contexts = contexts(store, boringSsl, a);
    TestPki.Issued foreign = b.issue(CLIENT);
    try (var server = new TlsServerHarness(() -> contexts.server(MTLS))) {
      assertThat(server.call(a, foreign, List.of(), List.of())).startsWith("refused");
      assertThat(server.call(a, foreign, List.of(), List.of())).startsWith("refused");
      assertThat(server.call(a, null, List.of(), List.of())).startsWith("refused");
    }
  }

  @org.junit.jupiter.api.Test
  void aPassedChainIsAnsweredFromTheCacheUntilNotAfter() throws Exception {
    PeerVerifier v = new PeerVerifier(List.of(a.root), List.of(), clock);
    X509Certificate[] chain = {a.issue(CLIENT).cert()};
    PeerVerifier.Verified first = v.verify(chain, "ECDHE_ECDSA", true);
    assertThat(first.uriSans()).containsExactly(CLIENT);
    assertThat(first.notAfter()).isEqualTo(chain[0].getNotAfter().toInstant());
    assertThat(v.verify(chain, "ECDHE_ECDSA", true)).isSameAs(first);
    assertThat(v.cached()).isEqualTo(1);
    // the other direction is a separate check (EKU serverAuth vs clientAuth)
    assertThat(v.verify(chain, "ECDHE_ECDSA", false)).isNotSameAs(first);
    assertThat(v.cached()).isEqualTo(2);
    now.set(first.notAfter().plusSeconds(1));
    assertThatThrownBy(() -> v.verify(chain, "ECDHE_ECDSA", true))
        .isInstanceOf(CertificateException.class)
        .hasMessageContaining("expired");
    now.set(Instant.now().plus(Duration.ofMinutes(1)));
    assertThat(v.verify(chain, "ECDHE_ECDSA", true)).isNotSameAs(first);
  }

  @org.junit.jupiter.api.Test
  void theCacheStaysBounded() throws Exception {
    PeerVerifier v = new PeerVerifier(List.of(a.root), List.of(), clock, 8);
    X509Certificate[] chain = {a.issue(CLIENT).cert()};
    for (int i = 0; i < 20; i++) {
      v.verify(chain, "auth-" + i, true);
      assertThat(v.cached()).isBetween(1, 8);
    }
  }
}
