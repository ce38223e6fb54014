package dev.bowline.proxy.tls;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Envoy's certificate validation: the peer's chain must lead to one of the trusted CAs (PKIX, no
 * host name check), then, if SAN matchers are given, one of the leaf's subjectAltNames must match
 * one of them (Istio: the peer's SPIFFE URI).
 */
final class PeerVerifier extends X509ExtendedTrustManager {
  private final X509TrustManager pkix;
  private final List<SanMatcher> sans;

  PeerVerifier(List<X509Certificate> trusted, List<SanMatcher> sans) throws Exception {
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

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
    sanCheck(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
    sanCheck(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
