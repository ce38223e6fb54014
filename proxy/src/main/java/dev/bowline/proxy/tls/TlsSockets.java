package dev.bowline.proxy.tls;

import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.Counter;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.lang.System.Logger.Level;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts TLS on a connection: the server side of a filter chain's {@code transport_socket}, the
 * client side of a cluster's. Counts Envoy's {@code ssl.*} stats under the listener or cluster and
 * records the peer ({@link TlsPeer}) once the handshake is done.
 */
public final class TlsSockets {
  private static final System.Logger LOG = System.getLogger(TlsSockets.class.getName());

  private TlsSockets() {}

  /** Envoy's {@code <prefix>ssl.*} counters. */
  record TlsStats(
      Counter handshake, Counter connectionError, Counter failVerifySan, Counter noCertificate) {
    static TlsStats of(
        dev.bowline.proxy.stats.Stats s,
        String prefix,
        String promPrefix,
        Map<String, String> tags) {
      return new TlsStats(
          s.counter(prefix + "ssl.handshake", promPrefix + "ssl_handshake", tags),
          s.counter(prefix + "ssl.connection_error", promPrefix + "ssl_connection_error", tags),
          s.counter(prefix + "ssl.fail_verify_san", promPrefix + "ssl_fail_verify_san", tags),
          s.counter(prefix + "ssl.no_certificate", promPrefix + "ssl_no_certificate", tags));
    }
  }

  /**
   * Adds the server side of {@code tls} to {@code ch} (listener {@code statPrefix}); false when the
   * context cannot be built (its secrets have not arrived): the caller closes the connection.
   */
  public static boolean install(
      Channel ch, DownstreamTls tls, ProxyRuntime runtime, String statPrefix) {
    TlsStats stats =
        TlsStats.of(
            runtime.stats(),
            "listener." + statPrefix + ".",
            "envoy_listener_",
            Map.of("envoy_listener_address", statPrefix));
    SslContext ctx = runtime.tls().server(tls);
    if (ctx == null) {
      stats.connectionError().inc();
      LOG.log(
          Level.DEBUG,
          "event=tls_not_ready listener={0} reason=\"{1}\"",
          statPrefix,
          runtime.tls().problem(tls));
      return false;
    }
    SslHandler ssl = ctx.newHandler(ch.alloc());
    ch.pipeline().addLast(ssl);
    ch.pipeline().addLast(HandshakeErrors.INSTANCE);
    watch(ch, ssl, stats, "listener=" + statPrefix, runtime.tls(), tls);
    return true;
  }

  /**
   * Adds the client side of {@code tls} to upstream {@code ch} of {@code cluster}; null when not
   * ready.
   */
  public static @org.jspecify.annotations.Nullable SslHandler client(
      Channel ch,
      UpstreamTls tls,
      TlsContexts contexts,
      dev.bowline.proxy.stats.Stats s,
      String cluster,
      String host,
      int port) {
    TlsStats stats =
        TlsStats.of(
            s, "cluster." + cluster + ".", "envoy_cluster_", Map.of("envoy_cluster_name", cluster));
    SslContext ctx = contexts.client(tls);
    if (ctx == null) {
      stats.connectionError().inc();
      LOG.log(
          Level.DEBUG,
          "event=tls_not_ready cluster={0} reason=\"{1}\"",
          cluster,
          contexts.problem(tls));
      return null;
    }
    SslHandler ssl =
        tls.sni().isEmpty()
            ? ctx.newHandler(ch.alloc())
            : ctx.newHandler(ch.alloc(), tls.sni(), port);
    ch.pipeline().addFirst(ssl);
    ch.pipeline().addAfter(ch.pipeline().context(ssl).name(), null, HandshakeErrors.INSTANCE);
    watch(ch, ssl, stats, "cluster=" + cluster + " host=" + host + ":" + port, contexts, tls);
    return ssl;
  }

  private static void watch(
      Channel ch,
      SslHandler ssl,
      TlsStats stats,
      String where,
      TlsContexts contexts,
      Object config) {
    ssl.handshakeFuture()
        .addListener(
            f -> {
              if (f.isSuccess()) {
                stats.handshake().inc();
                ch.attr(TlsPeer.KEY).set(peer(ssl, contexts.localUriSans(config)));
                if (ch.attr(TlsPeer.KEY).get().chain().isEmpty()) {
                  stats.noCertificate().inc();
                }
              } else {
                stats.connectionError().inc();
                String why = rootMessage(f.cause());
                if (why.contains("subjectAltNames")) {
                  stats.failVerifySan().inc();
                }
                LOG.log(Level.DEBUG, "event=tls_handshake_failed {0} error=\"{1}\"", where, why);
              }
            });
  }

  /**
   * Sits right behind the SslHandler: a failed handshake or a bad record is counted and logged by
   * {@link #watch}; here the connection is closed instead of the error travelling to the tail.
   */
  @io.netty.channel.ChannelHandler.Sharable
  static final class HandshakeErrors extends io.netty.channel.ChannelInboundHandlerAdapter {
    static final HandshakeErrors INSTANCE = new HandshakeErrors();

    @Override
    public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof io.netty.handler.codec.DecoderException
          || cause instanceof javax.net.ssl.SSLException) {
        LOG.log(
            Level.DEBUG,
            "event=tls_error channel={0} error=\"{1}\"",
            ctx.channel(),
            rootMessage(cause));
        ctx.close();
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }

  private static String rootMessage(Throwable t) {
    String m = String.valueOf(t.getMessage());
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
      if (c.getMessage() != null) {
        m = m + ": " + c.getMessage();
      }
    }
    return m;
  }

  private static TlsPeer peer(SslHandler ssl, List<String> configuredLocal) {
    SSLSession s = ssl.engine().getSession();
    String alpn = ssl.applicationProtocol();
    List<String> local = localUriSans(s);
    if (local.isEmpty()) {
      local = configuredLocal; // a resumed session does not present our certificate again
    }
    if (s.getValue(PeerVerifier.SESSION_KEY) instanceof PeerVerifier.Verified v) {
      // verified (or found in the verifier's cache) during this handshake: parsed once already
      return new TlsPeer(
          v.chain(),
          v.uriSans(),
          alpn == null ? "" : alpn,
          s.getProtocol(),
          s.getCipherSuite(),
          local);
    }
    List<X509Certificate> chain = new ArrayList<>();
    try {
      for (Certificate c : s.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate
    }
    List<String> uris =
        chain.isEmpty() ? List.of() : SanMatcher.sans(chain.getFirst(), SanMatcher.Type.URI);
    return new TlsPeer(
        chain, uris, alpn == null ? "" : alpn, s.getProtocol(), s.getCipherSuite(), local);
  }

  private static List<String> localUriSans(SSLSession s) {
    Certificate[] mine = s.getLocalCertificates();
    if (mine != null && mine.length > 0 && mine[0] instanceof X509Certificate x) {
      return SanMatcher.sans(x, SanMatcher.Type.URI);
    }
    return List.of();
  }
}
