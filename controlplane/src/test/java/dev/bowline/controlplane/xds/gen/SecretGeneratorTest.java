package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * SDS over ADS for {@code credentialName}: istiod's names ({@code kubernetes://name}, {@code
 * kubernetes://ns/name}, {@code -cacert} from its own Secret or the base Secret's {@code ca.crt}),
 * only Secrets of the proxy's own namespace, nothing for names that do not resolve.
 */
class SecretGeneratorTest {
  static final String CERT_PEM;
  static final String KEY_PEM;

  static {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair k = g.generateKeyPair();
      X500Name n = new X500Name("CN=a.example.com");
      var cert =
          new JcaX509v3CertificateBuilder(
                  n,
                  BigInteger.ONE,
                  Date.from(Instant.now().minusSeconds(60)),
                  Date.from(Instant.now().plusSeconds(86400)),
                  n,
                  k.getPublic())
              .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate()));
      CERT_PEM = pem("CERTIFICATE", cert.getEncoded());
      KEY_PEM = pem("PRIVATE KEY", k.getPrivate().getEncoded());
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
  }

  static String secret(String ns, String name, boolean withCa) {
    return "apiVersion: v1\nkind: Secret\nmetadata: {name: "
        + name
        + ", namespace: "
        + ns
        + "}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: "
        + b64(CERT_PEM)
        + "\n  tls.key: "
        + b64(KEY_PEM)
        + "\n"
        + (withCa ? "  ca.crt: " + b64(CERT_PEM) + "\n" : "");
  }

  static SortedMap<String, Message> sds(PushContext push, Proxy proxy, String... names) {
    return GatewayGeneratorTest.generate(
        proxy, push, TypeUrls.SECRET, ResourceNames.of(Set.of(names)));
  }

  @Test
  void servesIstiodNamesToGatewaysOfTheSecretsNamespaceOnly() throws Exception {
    PushContext push =
        GatewayGeneratorTest.push(
            GatewayGeneratorTest.REGISTRY,
            secret("istio-system", "a-cert", true)
                + "---\n"
                + secret("istio-system", "plain", false)
                + "---\n"
                + "apiVersion: v1\nkind: Secret\nmetadata: {name: plain-cacert, namespace:"
                + " istio-system}\nstringData:\n  cacert: |\n"
                + CERT_PEM.indent(4)
                + "---\n"
                + secret("weather", "other-ns", true));
    Proxy gw = GatewayGeneratorTest.ingress("NONE");
    var out =
        sds(
            push,
            gw,
            "kubernetes://a-cert",
            "kubernetes://a-cert-cacert",
            "kubernetes://istio-system/plain",
            "kubernetes://plain-cacert",
            "kubernetes://weather/other-ns",
            "kubernetes://missing",
            "default");
    assertThat(out)
        .containsOnlyKeys(
            "kubernetes://a-cert",
            "kubernetes://a-cert-cacert",
            "kubernetes://istio-system/plain",
            "kubernetes://plain-cacert");
    Secret cert = (Secret) out.get("kubernetes://a-cert");
    assertThat(cert.getName()).isEqualTo("kubernetes://a-cert");
    assertThat(cert.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8())
        .isEqualTo(CERT_PEM);
    assertThat(cert.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8())
        .isEqualTo(KEY_PEM);
    // -cacert: the base Secret's ca.crt, or the separate <name>-cacert Secret's cacert
    Secret ca = (Secret) out.get("kubernetes://a-cert-cacert");
    assertThat(ca.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
        .isEqualTo(CERT_PEM);
    assertThat(((Secret) out.get("kubernetes://plain-cacert")).hasValidationContext()).isTrue();

    // a proxy in namespace weather gets weather's Secrets, never istio-system's
    Proxy sidecar =
        GatewayGeneratorTest.node(
            "router~127.0.0.9~gw-0.weather~weather.svc.cluster.local",
            "weather",
            Map.of("istio", "weather-gw"),
            "NONE");
    assertThat(sds(push, sidecar, "kubernetes://other-ns", "kubernetes://istio-system/a-cert"))
        .containsOnlyKeys("kubernetes://other-ns");
  }
}
