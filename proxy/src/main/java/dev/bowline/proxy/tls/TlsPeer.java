package dev.bowline.proxy.tls;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * What a finished TLS handshake tells about the peer of a connection: its verified certificate
 * chain (empty when it sent none), its URI SANs (Istio: the SPIFFE identity) and the negotiated
 * ALPN, and the URI SANs of the certificate this side presented ({@code By=} of XFCC). Attached to
 * the downstream and upstream channel; read by filters (RBAC principals, XFCC).
 */
public record TlsPeer(
    List<X509Certificate> chain,
    List<String> uriSans,
    String alpn,
    String protocol,
    String cipher,
    List<String> localUriSans) {
  public TlsPeer {
    chain = List.copyOf(chain);
    uriSans = List.copyOf(uriSans);
    localUriSans = List.copyOf(localUriSans);
  }

  /** A peer whose local side presented no URI SAN. */
  public TlsPeer(
      List<X509Certificate> chain,
      List<String> uriSans,
      String alpn,
      String protocol,
      String cipher) {
    this(chain, uriSans, alpn, protocol, cipher, List.of());
  }

  static final AttributeKey<TlsPeer> KEY = AttributeKey.valueOf("bowline.tls_peer");

  /** The TLS peer of connection {@code ch} (or, for an HTTP/2 stream, of its parent). */
  /**
   * The attribute of {@code ch} that holds its peer once the handshake is done: a connection
   * handler looks it up once and reads it per request ({@link #of} searches the channel's
   * attributes).
   */
  public static io.netty.util.Attribute<TlsPeer> attribute(Channel ch) {
    return ch.attr(KEY);
  }

  public static Optional<TlsPeer> of(Channel ch) {
    TlsPeer p = ch.attr(KEY).get();
    if (p == null && ch.parent() != null) {
      p = ch.parent().attr(KEY).get();
    }
    return Optional.ofNullable(p);
  }

  /** The peer's first URI SAN (its SPIFFE id), empty if none. */
  public String principal() {
    return uriSans.isEmpty() ? "" : uriSans.getFirst();
  }

  /** The first URI SAN of the certificate this side presented (its SPIFFE id), empty if none. */
  public String localPrincipal() {
    return localUriSans.isEmpty() ? "" : localUriSans.getFirst();
  }

  /** Whether the peer presented a verified certificate (Envoy's {@code connection.mtls}). */
  public boolean mutual() {
    return !chain.isEmpty();
  }
}
