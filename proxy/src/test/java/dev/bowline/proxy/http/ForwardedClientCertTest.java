package dev.bowline.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.TestPki;
import dev.bowline.proxy.config.ClientCertDetails;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardedClientCertTest {
  static final TestPki PKI = new TestPki("xfcc-root");
  static final TestPki.Issued CLIENT = PKI.issue("client.example.com");
  static final TlsPeer MTLS =
      new TlsPeer(
          List.of(CLIENT.cert()),
          List.of(),
          "http/1.1",
          "TLSv1.3",
          "TLS_AES_128_GCM_SHA256",
          List.of("spiffe://cluster.local/ns/istio-system/sa/gw"));

  static HttpHeaders incoming() {
    return new DefaultHttpHeaders().set(ForwardedClientCert.HEADER, "By=spiffe://a;Hash=00");
  }

  @Test
  void gatewaySanitizeSetReplacesTheHeaderWithTheClientsSubjectCertAndDns() throws Exception {
    var d =
        new ClientCertDetails(ClientCertDetails.Mode.SANITIZE_SET, true, true, false, true, true);
    HttpHeaders h = incoming();
    ForwardedClientCert.apply(h, d, MTLS, new ForwardedClientCert.ElementCache());
    String hash =
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(CLIENT.cert().getEncoded()));
    String v = h.get(ForwardedClientCert.HEADER);
    assertThat(v)
        .startsWith("By=spiffe://cluster.local/ns/istio-system/sa/gw;Hash=" + hash + ";Cert=\"")
        .endsWith(";Subject=\"\";DNS=client.example.com")
        .doesNotContain("spiffe://a");
    String pem = v.substring(v.indexOf("Cert=\"") + 6, v.indexOf("\";Subject"));
    assertThat(URLDecoder.decode(pem, StandardCharsets.UTF_8))
        .isEqualTo(CLIENT.certPem().strip() + "\n");
  }

  @Test
  void appendForwardAppendsOnMutualTlsAndEveryModeButAlwaysForwardOnlyStripsPlaintext() {
    var append =
        new ClientCertDetails(
            ClientCertDetails.Mode.APPEND_FORWARD, false, false, false, false, true);
    HttpHeaders h = incoming();
    ForwardedClientCert.apply(h, append, MTLS, new ForwardedClientCert.ElementCache());
    assertThat(h.get(ForwardedClientCert.HEADER))
        .startsWith("By=spiffe://a;Hash=00,By=spiffe://cluster.local/ns/istio-system/sa/gw;Hash=");
    for (ClientCertDetails.Mode m : ClientCertDetails.Mode.values()) {
      HttpHeaders plain = incoming();
      ForwardedClientCert.apply(
          plain,
          new ClientCertDetails(m, true, true, true, true, true),
          null,
          new ForwardedClientCert.ElementCache());
      assertThat(plain.contains(ForwardedClientCert.HEADER))
          .as(m.name())
          .isEqualTo(m == ClientCertDetails.Mode.ALWAYS_FORWARD_ONLY);
    }
  }
}
