package dev.bowline.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** tls_inspector's ClientHello reading, fed real ClientHellos from the JDK's TLS client. */
class ClientHelloTest {
  static byte[] clientHello(String sni, List<String> alpn) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, null, null);
    SSLEngine e = ctx.createSSLEngine();
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    if (!sni.isEmpty()) {
      p.setServerNames(List.of(new SNIHostName(sni)));
    }
    p.setApplicationProtocols(alpn.toArray(String[]::new));
    e.setSSLParameters(p);
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    e.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] b = new byte[out.remaining()];
    out.get(b);
    return b;
  }

  /** (The JDK client refuses Istio's {@code outbound_.8080_._.host} SNI: it has underscores.) */
  @Test
  void readsServerNameAndAlpnFromARealClientHello() throws Exception {
    byte[] hello =
        clientHello("forecast.weather.svc.cluster.local", List.of("istio-peer-exchange", "istio"));
    var r = ClientHello.read(Unpooled.wrappedBuffer(hello));
    assertThat(r)
        .isEqualTo(
            new ClientHello.Found(
                new ClientHello(
                    "forecast.weather.svc.cluster.local",
                    List.of("istio-peer-exchange", "istio"))));
  }

  @Test
  void waitsForTheWholeHelloAndNeverConsumes() throws Exception {
    byte[] hello = clientHello("a.example", List.of("h2"));
    for (int cut : new int[] {1, 4, 5, 40, hello.length - 1}) {
      ByteBuf part = Unpooled.wrappedBuffer(hello, 0, cut);
      assertThat(ClientHello.read(part)).isInstanceOf(ClientHello.NeedMore.class);
      assertThat(part.readerIndex()).isZero();
    }
    // the same hello split over two TLS records
    int body = hello.length - 5;
    int first = body / 2;
    ByteBuf split = Unpooled.buffer();
    split.writeBytes(new byte[] {22, 3, 1, (byte) (first >> 8), (byte) first});
    split.writeBytes(hello, 5, first);
    int second = body - first;
    split.writeBytes(new byte[] {22, 3, 1, (byte) (second >> 8), (byte) second});
    split.writeBytes(hello, 5 + first, second);
    assertThat(ClientHello.read(split))
        .isEqualTo(new ClientHello.Found(new ClientHello("a.example", List.of("h2"))));
  }

  @Test
  void plaintextAndGarbageAreNotTls() {
    assertThat(
            ClientHello.read(
                Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII)))
        .isInstanceOf(ClientHello.NotTls.class);
    assertThat(ClientHello.read(Unpooled.wrappedBuffer(new byte[] {22, 9, 9, 0, 4, 1, 0, 0, 0})))
        .isInstanceOf(ClientHello.NotTls.class);
    // a handshake record holding a ServerHello (type 2)
    assertThat(ClientHello.read(Unpooled.wrappedBuffer(new byte[] {22, 3, 3, 0, 4, 2, 0, 0, 0})))
        .isInstanceOf(ClientHello.NotTls.class);
  }
}
