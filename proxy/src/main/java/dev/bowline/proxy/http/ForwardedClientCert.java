package dev.bowline.proxy.http;

import dev.bowline.proxy.config.ClientCertDetails;
import dev.bowline.proxy.tls.SanMatcher;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code x-forwarded-client-cert} handling: sanitize, forward, append or set the header per
 * the connection manager's {@link ClientCertDetails}, with this hop's element {@code By=<our URI
 * SAN>;Hash=<SHA-256 of the client certificate>;Cert="…";Chain="…";Subject="…"; URI=…;DNS=…} in
 * Envoy's order. The element is built once per connection.
 */
final class ForwardedClientCert {
  static final io.netty.util.AsciiString HEADER =
      io.netty.util.AsciiString.cached("x-forwarded-client-cert");

  private ForwardedClientCert() {}

  /**
   * Applies {@code details} to {@code headers} for a request that came over a connection whose TLS
   * peer is {@code peer} (null: plaintext); {@code cache} keeps the element per connection.
   */
  static void apply(
      HttpHeaders headers, ClientCertDetails details, @Nullable TlsPeer peer, ElementCache cache) {
    boolean mtls = peer != null && !peer.chain().isEmpty();
    switch (details.mode()) {
      case SANITIZE -> headers.remove(HEADER);
      case ALWAYS_FORWARD_ONLY -> {}
      case FORWARD_ONLY -> {
        if (!mtls) {
          headers.remove(HEADER);
        }
      }
      case APPEND_FORWARD, SANITIZE_SET -> {
        if (!mtls) {
          headers.remove(HEADER);
          return;
        }
        String mine = cache.element(details, peer);
        String old =
            details.mode() == ClientCertDetails.Mode.APPEND_FORWARD ? headers.get(HEADER) : null;
        headers.set(HEADER, old == null || old.isEmpty() ? mine : old + "," + mine);
      }
    }
  }

  /** This hop's XFCC element for the client certificate of {@code peer}. */
  static String element(ClientCertDetails d, TlsPeer peer) {
    X509Certificate leaf = peer.chain().getFirst();
    StringBuilder b = new StringBuilder(256);
    for (String by : peer.localUriSans()) {
      sep(b).append("By=").append(by);
    }
    sep(b).append("Hash=").append(sha256(leaf));
    if (d.cert()) {
      sep(b).append("Cert=\"").append(urlPem(List.of(leaf))).append('"');
    }
    if (d.chain()) {
      sep(b).append("Chain=\"").append(urlPem(peer.chain())).append('"');
    }
    if (d.subject()) {
      String subject = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
      sep(b).append("Subject=\"").append(subject.replace("\"", "\\\"")).append('"');
    }
    if (d.uri()) {
      for (String u : peer.uriSans()) {
        sep(b).append("URI=").append(u);
      }
    }
    if (d.dns()) {
      for (String dns : SanMatcher.sans(leaf, SanMatcher.Type.DNS)) {
        sep(b).append("DNS=").append(dns);
      }
    }
    return b.toString();
  }

  private static StringBuilder sep(StringBuilder b) {
    return b.isEmpty() ? b : b.append(';');
  }

  private static String sha256(X509Certificate c) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String urlPem(List<X509Certificate> certs) {
    StringBuilder pem = new StringBuilder();
    Base64.Encoder enc = Base64.getMimeEncoder(64, new byte[] {'\n'});
    for (X509Certificate c : certs) {
      try {
        pem.append("-----BEGIN CERTIFICATE-----\n")
            .append(enc.encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    return URLEncoder.encode(pem.toString(), StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The element of one connection, built on its first request (event loop only). */
  static final class ElementCache {
    private @Nullable ClientCertDetails details;
    private @Nullable TlsPeer peer;
    private @Nullable String element;

    String element(ClientCertDetails d, TlsPeer p) {
      String e = element;
      if (e == null || d != details || p != peer) {
        e = ForwardedClientCert.element(d, p);
        details = d;
        peer = p;
        element = e;
      }
      return e;
    }
  }
}
