package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code upstream_http_protocol_options} of a TLS cluster over real sockets, as Istio's TLS
 * origination sets them: {@code auto_sni} sends the request's host as the SNI (or the host in
 * {@code override_auto_sni_header}), {@code auto_san_validation} accepts only a certificate naming
 * it, and connections are pooled per name. The TLS backend (certificate for {@code a.example})
 * answers with the SNI it received.
 */
class AutoSniProxyTest {
  static final String IP = "127.0.7.48";
  static final String BACKEND_IP = "127.0.7.49";
  static EventLoopGroup group;
  static Channel backend;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    TestPki pki = new TestPki("auto-sni-root");
    TestPki.Issued cert = pki.issue("a.example");
    SslContext server =
        SslContextBuilder.forServer(cert.key().getPrivate(), cert.cert())
            .sslProvider(SslProvider.JDK)
            .build();
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    backend =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            server.newHandler(ch.alloc()),
                            new HttpServerCodec(),
                            new HttpObjectAggregator(1 << 16),
                            new SniEcho());
                  }
                })
            .bind(new InetSocketAddress(BACKEND_IP, 0))
            .sync()
            .channel();
    int backendPort = ((InetSocketAddress) backend.localAddress()).getPort();
    String tls =
        """
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
            common_tls_context: {validation_context: {trusted_ca: {inline_string: "%s"}}}
        """
            .formatted(pki.rootPem().strip().replace("\n", "\\n") + "\\n");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "h",
                    IP,
                    port,
                    "",
                    SocketProxy.to("/checked", "checked"),
                    SocketProxy.to("/header", "header"))),
            List.of(
                SocketProxy.cluster(
                    "checked",
                    BACKEND_IP,
                    backendPort,
                    tls
                        + SocketProxy.httpProtocolOptions(
                            """
                            explicit_http_config: {http_protocol_options: {}}
                            upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true}""")),
                SocketProxy.cluster(
                    "header",
                    BACKEND_IP,
                    backendPort,
                    tls
                        + SocketProxy.httpProtocolOptions(
                            """
                            explicit_http_config: {http_protocol_options: {}}
                            upstream_http_protocol_options: {auto_sni: true, override_auto_sni_header: X-Sni}"""))));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
    group.shutdownGracefully();
  }

  /** Answers {@code sni=<the SNI of the connection>} ({@code none} without one). */
  static final class SniEcho extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      var session = (ExtendedSSLSession) ctx.pipeline().get(SslHandler.class).engine().getSession();
      String sni =
          session.getRequestedServerNames().stream()
              .map(n -> ((SNIHostName) n).getAsciiName())
              .findFirst()
              .orElse("none");
      byte[] body = ("sni=" + sni).getBytes(StandardCharsets.US_ASCII);
      var res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
      ctx.writeAndFlush(res);
    }
  }

  static String get(String path, String host, String extra) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(60_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return SocketProxy.response(s.getInputStream());
    }
  }

  @Test
  void theRequestsHostIsTheSniAndTheCertificateMustNameIt() throws Exception {
    assertThat(get("/checked", "a.example:8443", ""))
        .startsWith("HTTP/1.1 200")
        .endsWith("sni=a.example");
    // auto_san_validation: the backend's certificate names a.example only
    assertThat(get("/checked", "b.example", "")).startsWith("HTTP/1.1 503");
    assertThat(proxy.stat("cluster.checked.ssl.fail_verify_san")).isPositive();
  }

  @Test
  void theOverrideHeaderNamesTheSniAndEachNameGetsConnectionsOfItsOwn() throws Exception {
    assertThat(get("/header", "t", "X-Sni: c.example\r\n")).endsWith("sni=c.example");
    assertThat(get("/header", "t", "X-Sni: d.example\r\n")).endsWith("sni=d.example");
    assertThat(get("/header", "t", "X-Sni: c.example\r\n")).endsWith("sni=c.example");
    // an IP address is no SNI (Envoy sets none for one)
    assertThat(get("/header", "t", "X-Sni: 10.0.0.1\r\n")).endsWith("sni=none");
  }
}
