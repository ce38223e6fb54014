package dev.bowline.proxy.tls;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's certificate validation: the peer's chain must lead to one of the trusted CAs (PKIX, no
 * host name check), then, if SAN matchers are given, one of the leaf's subjectAltNames must match
 * one of them (Istio: the peer's SPIFFE URI).
 *
 * <p>Sidecars present the same certificate for hours, so a chain that passed is remembered (keyed
 * by the DER of every certificate presented and the check's direction) until the earliest {@code
 * notAfter} in it, by the injected clock: the next handshake with it skips the JDK's PKIX path
 * validation and X.509 parsing. The cache belongs to this verifier, which belongs to one SSL
 * context, which is built for one version of the trust bundle: a rotated bundle means a new
 * verifier and an empty cache, so a root taken out of the bundle is refused on the next handshake.
 * The cache is bounded ({@link #MAX_ENTRIES} by default); when full, expired entries go, then all
 * of them.
 *
 * <p>The verified peer (chain and URI SANs, parsed once) is also left in the handshake session
 * under {@link #SESSION_KEY}, so the connection's {@link TlsPeer} record needs no second parse.
 */
final class PeerVerifier extends X509ExtendedTrustManager {
  /** The {@link SSLSession} value under which the {@link Verified} peer is left. */
  static final String SESSION_KEY = "bowline.verified_peer";

  static final int MAX_ENTRIES = 4096;

  /** A chain that passed, with what the peer record needs from it. */
  record Verified(List<X509Certificate> chain, List<String> uriSans, Instant notAfter) {}

  private record Key(byte[][] ders, boolean client, String authType) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k
          && client == k.client
          && authType.equals(k.authType)
          && Arrays.deepEquals(ders, k.ders);
    }

    @Override
    public int hashCode() {
      return Arrays.deepHashCode(ders) * 31 + Boolean.hashCode(client);
    }

    @Override
    public String toString() {
      return "Key[" + ders.length + " certificates]";
    }
  }

  private final X509TrustManager pkix;
  private final List<SanMatcher> sans;
  private final InstantSource clock;
  private final ConcurrentHashMap<Key, Verified> verified = new ConcurrentHashMap<>();
  private final int maxEntries;

  PeerVerifier(List<X509Certificate> trusted, List<SanMatcher> sans, InstantSource clock)
      throws Exception {
    this(trusted, sans, clock, MAX_ENTRIES);
  }

  PeerVerifier(
      List<X509Certificate> trusted, List<SanMatcher> sans, InstantSource clock, int maxEntries)
      throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    for (int i = 0; i < trusted.size(); i++) {
      ks.setCertificateEntry("ca-" + i, trusted.get(i));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    X509TrustManager found = null;
    for (var tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        found = x;
      }
    }
    if (found == null) {
      throw new IllegalStateException("no X509TrustManager");
    }
    this.pkix = found;
    this.sans = List.copyOf(sans);
    this.clock = clock;
    this.maxEntries = maxEntries;
  }

  /** How many verified chains are remembered (for tests and the admin page). */
  int cached() {
    return verified.size();
  }

  /**
   * Verifies {@code chain} as a client's ({@code client}) or a server's, from the cache when it
   * passed before and has not expired since.
   */
  Verified verify(X509Certificate[] chain, String authType, boolean client)
      throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("peer presented no certificate");
    }
    byte[][] ders = new byte[chain.length][];
    for (int i = 0; i < chain.length; i++) {
      ders[i] = encoded(chain[i]);
    }
    Key key = new Key(ders, client, authType == null ? "" : authType);
    Instant now = clock.instant();
    Verified hit = verified.get(key);
    if (hit != null) {
      if (now.isBefore(hit.notAfter())) {
        return hit;
      }
      verified.remove(key, hit);
    }
    Instant notAfter = Instant.MAX;
    Date date = Date.from(now);
    for (X509Certificate c : chain) {
      // the injected clock governs expiry, the JDK's PKIX check below uses the system's
      try {
        c.checkValidity(date);
      } catch (CertificateExpiredException e) {
        throw new CertificateExpiredException(
            "peer certificate " + c.getSubjectX500Principal() + " expired at " + c.getNotAfter());
      } catch (CertificateNotYetValidException e) {
        throw new CertificateNotYetValidException(
            "peer certificate "
                + c.getSubjectX500Principal()
                + " is not valid before "
                + c.getNotBefore());
      }
      Instant end = c.getNotAfter().toInstant();
      if (end.isBefore(notAfter)) {
        notAfter = end;
      }
    }
    if (client) {
      pkix.checkClientTrusted(chain, authType);
    } else {
      pkix.checkServerTrusted(chain, authType);
    }
    sanCheck(chain);
    Verified v =
        new Verified(List.of(chain), SanMatcher.sans(chain[0], SanMatcher.Type.URI), notAfter);
    if (verified.size() >= maxEntries) {
      verified.values().removeIf(e -> !now.isBefore(e.notAfter()));
      if (verified.size() >= maxEntries) {
        verified.clear();
      }
    }
    verified.put(key, v);
    return v;
  }

  private static byte[] encoded(X509Certificate c) throws CertificateException {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new CertificateException("peer certificate cannot be encoded: " + e.getMessage(), e);
    }
  }

  private void sanCheck(X509Certificate[] chain) throws CertificateException {
    if (sans.isEmpty()) {
      return;
    }
    for (SanMatcher m : sans) {
      if (m.matches(chain[0])) {
        return;
      }
    }
    throw new CertificateException(
        "peer certificate subjectAltNames "
            + SanMatcher.sans(chain[0], SanMatcher.Type.ANY)
            + " match none of the configured matchers");
  }

  private static void remember(@Nullable SSLEngine engine, Verified v) {
    SSLSession s = engine == null ? null : engine.getHandshakeSession();
    if (s != null) {
      s.putValue(SESSION_KEY, v);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    remember(engine, verify(chain, authType, true));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    remember(engine, verify(chain, authType, false));
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
