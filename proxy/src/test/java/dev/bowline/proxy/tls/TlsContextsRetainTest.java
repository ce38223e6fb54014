package dev.bowline.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.TestPki;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Which client contexts {@link TlsContexts#retain} keeps when the config is published again: the
 * context of a config still in force, found by identity or (a cluster re-parsed into an equal
 * config) by equality; not the context of a config no longer in force.
 */
class TlsContextsRetainTest {
  private final TestPki pki = new TestPki("retain root");
  private final TestPki.Issued cert = pki.issue("spiffe://cluster.local/ns/a/sa/client");

  private UpstreamTls tls(String sni) {
    return new UpstreamTls(
        new CommonTls(
            List.of(new CertificateSource.Inline(cert.certPem(), cert.keyPem())),
            Optional.of(new TrustSource.Inline(pki.rootPem())),
            List.of(),
            List.of(),
            TlsParams.DEFAULT),
        sni);
  }

  @Test
  void aContextStaysWhileAConfigEqualToItsIsInForce() {
    var contexts = new TlsContexts(new SecretStore(), false);
    UpstreamTls a = tls("a.test");
    UpstreamTls b = tls("b.test");
    var ca = contexts.client(a);
    var cb = contexts.client(b);
    assertThat(ca).isNotNull();
    assertThat(cb).isNotNull().isNotSameAs(ca);

    // the very same configs published again: both contexts stay
    contexts.retain(List.of(a, b));
    assertThat(contexts.client(a)).isSameAs(ca);
    assertThat(contexts.client(b)).isSameAs(cb);

    // an equal copy of a (its cluster parsed again) keeps a's context; b is no longer in force
    UpstreamTls aAgain = tls("a.test");
    assertThat(aAgain).isNotSameAs(a).isEqualTo(a);
    contexts.retain(List.of(aAgain));
    assertThat(contexts.client(aAgain)).isSameAs(ca);
    assertThat(contexts.problem(b)).isEqualTo("not built yet");
    assertThat(contexts.client(b)).isNotNull().isNotSameAs(cb);

    // nothing in force: everything goes
    contexts.retain(List.of());
    assertThat(contexts.problem(a)).isEqualTo("not built yet");
  }
}
