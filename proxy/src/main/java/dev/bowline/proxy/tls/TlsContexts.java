package dev.bowline.proxy.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * Netty SSL contexts for the TLS configs in force, built from the current secrets. A context is
 * built once per config and secret version and shared by all event loops; a secret rotation makes
 * the next handshake build a new one, while open connections keep theirs (Envoy's behaviour: no
 * connection is dropped by a rotation). A config whose secrets have not arrived yet has no context:
 * new connections under it fail, as Envoy's do before its SDS secrets are warm.
 *
 * <p>BoringSSL (netty-tcnative) is used where it loads, the JDK's SSLEngine otherwise.
 */
public final class TlsContexts {
  private static final System.Logger LOG = System.getLogger(TlsContexts.class.getName());

  private final SecretStore secrets;
  private final InstantSource clock;
  private final boolean preferOpenSsl;

  /**
   * Chosen at the first context built, not at construction: probing BoringSSL loads netty-tcnative
   * and the JDK's security providers (~0.2 s and a few MB), which a proxy without TLS never needs.
   */
  private volatile @Nullable SslProvider provider;

  private final ConcurrentHashMap<Object, Built> cache = new ConcurrentHashMap<>();

  private record Built(long version, @Nullable SslContext context, String problem) {}

  /**
   * Contexts over {@code secrets}, with BoringSSL when {@code preferOpenSsl} and it loads; {@code
   * clock} decides when a remembered peer certificate has expired.
   */
  public TlsContexts(SecretStore secrets, boolean preferOpenSsl, InstantSource clock) {
    this.secrets = secrets;
    this.preferOpenSsl = preferOpenSsl;
    this.clock = clock;
  }

  /** Per config: the URI SANs of our certificate (a resumed session does not present it). */
  private final ConcurrentHashMap<Object, List<String>> localUriSans = new ConcurrentHashMap<>();

  /** The URI SANs of the certificate {@code tls} (an upstream or downstream config) presents. */
  public List<String> localUriSans(Object tls) {
    return localUriSans.getOrDefault(tls, List.of());
  }

  /** Contexts over {@code secrets}, with BoringSSL when {@code preferOpenSsl} and it loads. */
  public TlsContexts(SecretStore secrets, boolean preferOpenSsl) {
    this(secrets, preferOpenSsl, InstantSource.system());
  }

  /** Contexts over {@code secrets}, BoringSSL when available. */
  public TlsContexts(SecretStore secrets) {
    this(secrets, true);
  }

  /** {@code "BoringSSL"} or {@code "JDK"}. */
  public String providerName() {
    return provider() == SslProvider.OPENSSL ? "BoringSSL" : "JDK";
  }

  private SslProvider provider() {
    SslProvider p = provider;
    if (p == null) {
      p = preferOpenSsl && OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
      provider = p;
    }
    return p;
  }

  /** The secrets these contexts are built from. */
  public SecretStore secrets() {
    return secrets;
  }

  /** The client context for {@code tls}, or null while its secrets are missing or invalid. */
  public @Nullable SslContext client(UpstreamTls tls) {
    return get(tls, () -> build(tls, tls.common(), false, false, false));
  }

  /**
   * A JDK {@link javax.net.ssl.SSLContext} with {@code tls}'s certificate and peer validation, for
   * JDK clients (the span exporter's HTTP client); null while its secrets are missing or invalid.
   * The JDK applies its own protocol and cipher defaults: {@code tls_params} are not applied.
   */
  public javax.net.ssl.@Nullable SSLContext jdkClient(UpstreamTls tls) {
    SslContext c = get(new JdkClient(tls), () -> build(tls, tls.common(), false, false, true));
    return c instanceof io.netty.handler.ssl.JdkSslContext j ? j.context() : null;
  }

  /** The cache key of a JDK client context. */
  private record JdkClient(UpstreamTls tls) {}

  /** The server context for {@code tls}, or null while its secrets are missing or invalid. */
  public @Nullable SslContext server(DownstreamTls tls) {
    return get(tls, () -> build(tls, tls.common(), true, tls.requireClientCertificate(), false));
  }

  /** Why {@code tls} (an upstream or downstream config) has no context; empty when it has one. */
  public String problem(Object tls) {
    Built b = cache.get(tls);
    return b == null ? "not built yet" : b.problem();
  }

  /**
   * Forgets contexts of configs no longer in force: those equal to none of {@code live}. Each push
   * publishes every cluster's TLS config again, mostly the very objects the contexts were built
   * for, so a key is looked up by identity first; the configs are hashed (records hash deeply, and
   * with 2,000 clusters that was most of Proxy.followSecrets' time per push) only when some key is
   * not found so.
   */
  public void retain(java.util.Collection<?> live) {
    if (cache.isEmpty() && localUriSans.isEmpty()) {
      return;
    }
    var isLive = new LiveConfigs(live);
    cache.keySet().removeIf(k -> !isLive.contains(k));
    localUriSans.keySet().removeIf(k -> !isLive.contains(k));
  }

  /** Membership in a collection of configs, by identity and, for what misses, by equality. */
  private static final class LiveConfigs {
    private final java.util.Collection<?> live;
    private final Set<Object> same;
    private @Nullable Set<Object> equal;

    LiveConfigs(java.util.Collection<?> live) {
      this.live = live;
      this.same = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      same.addAll(live);
    }

    boolean contains(Object key) {
      if (same.contains(key)) {
        return true;
      }
      Set<Object> e = equal;
      if (e == null) {
        e = new java.util.HashSet<>(live);
        equal = e;
      }
      return e.contains(key);
    }
  }

  private interface Builder {
    SslContext build() throws Exception;
  }

  private @Nullable SslContext get(Object key, Builder builder) {
    long v = secrets.version();
    Built b = cache.get(key);
    if (b != null && b.version() == v) {
      return b.context();
    }
    Built next;
    try {
      next = new Built(v, builder.build(), "");
    } catch (MissingSecret e) {
      next = new Built(v, null, e.getMessage());
    } catch (Exception e) {
      LOG.log(Level.WARNING, "event=tls_context_failed error=\"{0}\"", e.getMessage());
      next = new Built(v, null, String.valueOf(e.getMessage()));
    }
    cache.put(key, next);
    return next.context();
  }

  private static final class MissingSecret extends Exception {
    private static final long serialVersionUID = 1L;

    MissingSecret(String message) {
      super(message, null, false, false);
    }
  }

  private SslContext build(
      Object key0, CommonTls c, boolean server, boolean requireClientCert, boolean jdk)
      throws Exception {
    String chain = null;
    String key = null;
    if (!c.certificates().isEmpty()) {
      switch (c.certificates().getFirst()) {
        case CertificateSource.Inline i -> {
          chain = i.chainPem();
          key = i.keyPem();
        }
        case CertificateSource.Sds s -> {
          SecretKey k = new SecretKey(s.source(), s.name());
          if (!(secrets.get(k).orElse(null) instanceof Secret.Certificate cert)) {
            throw new MissingSecret("certificate secret " + k + " has not arrived");
          }
          chain = cert.chainPem();
          key = cert.keyPem();
        }
      }
    }
    if (chain != null) {
      List<X509Certificate> mine = Pem.certificates(chain);
      localUriSans.put(
          key0, mine.isEmpty() ? List.of() : SanMatcher.sans(mine.getFirst(), SanMatcher.Type.URI));
    }
    List<X509Certificate> trusted = null;
    List<SanMatcher> sans = new ArrayList<>(c.sanMatchers());
    if (c.trust().isPresent()) {
      switch (c.trust().get()) {
        case TrustSource.Inline i -> trusted = Pem.certificates(i.caPem());
        case TrustSource.Sds s -> {
          SecretKey k = new SecretKey(s.source(), s.name());
          if (!(secrets.get(k).orElse(null) instanceof Secret.Validation v)) {
            throw new MissingSecret("validation secret " + k + " has not arrived");
          }
          trusted = Pem.certificates(v.caPem());
          sans.addAll(v.sanMatchers());
        }
      }
    }
    SslContextBuilder b;
    if (server) {
      b = SslContextBuilder.forServer(stream(chain), stream(key));
      b.clientAuth(
          requireClientCert
              ? ClientAuth.REQUIRE
              : trusted != null ? ClientAuth.OPTIONAL : ClientAuth.NONE);
    } else {
      b = SslContextBuilder.forClient();
      if (chain != null) {
        b.keyManager(stream(chain), stream(key));
      }
    }
    if (trusted != null) {
      b.trustManager(new PeerVerifier(trusted, sans, clock));
    } else {
      // Envoy: without a validation context the peer's certificate is not verified
      b.trustManager(InsecureTrustManagerFactory.INSTANCE);
    }
    if (!c.alpn().isEmpty()) {
      b.applicationProtocolConfig(
          new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              c.alpn()));
    }
    TlsParams p = c.params();
    SslProvider provider = jdk ? SslProvider.JDK : provider();
    if (jdk) {
      return b.sslProvider(provider).build(); // the JDK client applies its own parameters
    }
    b.sslProvider(provider).protocols(p.protocols());
    if (!p.cipherSuites().isEmpty()) {
      // Envoy's cipher_suites restrict TLS 1.2; TLS 1.3 keeps its (not configurable) suites
      List<String> suites = new ArrayList<>(p.cipherSuites());
      if (p.protocols().contains("TLSv1.3")) {
        suites.addAll(TLS13_SUITES);
      }
      // a suite the provider lacks is skipped, not fatal (JDK 25 lacks istiod's static-RSA ones)
      b.ciphers(suites, SupportedCipherSuiteFilter.INSTANCE);
    }
    if (p.ecdhCurves().isEmpty()) {
      return b.build();
    }
    if (provider == SslProvider.OPENSSL) {
      return b.option(OpenSslContextOption.GROUPS, p.ecdhCurves().toArray(String[]::new)).build();
    }
    String[] groups = p.ecdhCurves().stream().map(TlsContexts::jdkGroup).toArray(String[]::new);
    return new DelegatingSslContext(b.build()) {
      @Override
      protected void initEngine(SSLEngine engine) {
        SSLParameters sp = engine.getSSLParameters();
        sp.setNamedGroups(groups);
        engine.setSSLParameters(sp);
      }
    };
  }

  private static final List<String> TLS13_SUITES =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  private static String jdkGroup(String envoyName) {
    return switch (envoyName) {
      case "X25519" -> "x25519";
      case "P-256" -> "secp256r1";
      case "P-384" -> "secp384r1";
      case "P-521" -> "secp521r1";
      default -> envoyName;
    };
  }

  private static ByteArrayInputStream stream(@Nullable String pem) {
    return new ByteArrayInputStream(
        java.util.Objects.requireNonNull(pem, "pem").getBytes(StandardCharsets.US_ASCII));
  }
}
