package dev.bowline.proxy.tls;

import dev.bowline.proxy.TestPki;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * A real TLS server on loopback whose every connection takes the context a supplier gives at accept
 * time (as the proxy's listeners do), and answers one line after the handshake: {@code <protocol>
 * <cipher> <verified peer URI SANs or "unverified">}. The client side is the JDK's.
 */
final class TlsServerHarness implements AutoCloseable {
  private final MultiThreadIoEventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;

  TlsServerHarness(Supplier<@Nullable SslContext> contexts) throws InterruptedException {
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslContext ctx = contexts.get();
                    if (ctx == null) {
                      ch.close();
                      return;
                    }
                    SslHandler ssl = ctx.newHandler(ch.alloc());
                    ch.pipeline().addLast(ssl);
                    ssl.handshakeFuture()
                        .addListener(
                            f -> {
                              if (!f.isSuccess()) {
                                ch.close();
                                return;
                              }
                              var s = ssl.engine().getSession();
                              Object v = s.getValue(PeerVerifier.SESSION_KEY);
                              String peer =
                                  v instanceof PeerVerifier.Verified p
                                      ? String.join(",", p.uriSans())
                                      : "unverified";
                              String line =
                                  s.getProtocol() + " " + s.getCipherSuite() + " " + peer + "\n";
                              ch.writeAndFlush(
                                      Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII))
                                  .addListener(ChannelFutureListener.CLOSE);
                            });
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The server's line, or {@code refused: <reason>} when the handshake or the read failed. */
  String call(
      TestPki trustedByClient,
      TestPki.@Nullable Issued clientCert,
      List<String> protocols,
      List<String> ciphers)
      throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", trustedByClient.root);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    if (clientCert != null) {
      keys.setKeyEntry(
          "me",
          clientCert.key().getPrivate(),
          new char[0],
          new X509Certificate[] {clientCert.cert()});
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, new char[0]);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      if (!protocols.isEmpty()) {
        p.setProtocols(protocols.toArray(String[]::new));
      }
      if (!ciphers.isEmpty()) {
        p.setCipherSuites(ciphers.toArray(String[]::new));
      }
      s.setSSLParameters(p);
      s.startHandshake();
      String line =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      return line == null ? "refused: connection closed" : line;
    } catch (java.io.IOException e) {
      return "refused: " + e;
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
