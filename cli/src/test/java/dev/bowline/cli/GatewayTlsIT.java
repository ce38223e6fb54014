package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on an ingress gateway, end to end through the real control plane and a real gateway proxy
 * ({@link PolicyMesh}): Istio Gateway servers with {@code credentialName}, the certificates kept in
 * Kubernetes Secret YAML in the watched config directory and served to the gateway over SDS on its
 * ADS stream (decision 0022). Clients are raw JDK TLS sockets, so the test sees exactly which
 * certificate a handshake got. Addresses 127.A.11.x ({@link TestNet}); the gateway listens on 8443
 * (TLS) and 8081.
 */
class GatewayTlsIT {
  static final String NET = TestNet.ip("127.0.11");
  static final String GW = NET + ".2";
  static final String BACKEND = NET + ".50";
  static final int HTTPS = 8443;
  static final int HTTP = 8081;

  @TempDir static Path dir;
  static PolicyMesh mesh;
  static Pki pki;
  static HttpsServer tlsBackend;
  static Pki.Issued backendCert;

  @BeforeAll
  static void start() throws Exception {
    pki = new Pki();
    Files.writeString(
        dir.resolve("secrets.yaml"),
        secret("a-cert", pki.issue("a.example.com"))
            + "---\n"
            + secret("b-cert", pki.issue("b.example.com"))
            + "---\n"
            + secretWithCa("m-cert", pki.issue("m.example.com")));
    Files.writeString(dir.resolve("gateway.yaml"), GATEWAY);
    mesh = new PolicyMesh(dir, NET, List.of("v1"));
    // a TLS backend that only the PASSTHROUGH server reaches, its certificate for p.example.com
    backendCert = pki.issue("p.example.com");
    tlsBackend = HttpsServer.create(new InetSocketAddress(BACKEND, 9443), 16);
    tlsBackend.setHttpsConfigurator(new HttpsConfigurator(pki.serverContext(backendCert)));
    tlsBackend.createContext(
        "/",
        ex -> {
          byte[] b = "backend=passthrough".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    tlsBackend.start();
    mesh.registry.putService(
        new LocalService(
            "weather",
            "secure",
            List.of(new ServicePort("tls", 9443, Protocol.TLS, 9443)),
            Map.of(),
            Map.of()));
    mesh.registry.putWorkload(
        new Workload(
            "weather",
            "secure-0",
            Map.of("app", "secure"),
            BACKEND,
            Map.of("tls", 9443),
            "secure",
            new Locality("local", "zone-a", ""),
            "",
            HealthStatus.HEALTHY));
    mesh.gateway(GW, Map.of("istio", "ingressgateway"));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get("a.example.com", null).status() == 200);
  }

  @AfterAll
  static void stop() {
    if (mesh != null) {
      mesh.close();
    }
    if (tlsBackend != null) {
      tlsBackend.stop(0);
    }
  }

  static final String GATEWAY =
      """
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: web, namespace: istio-system}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 8081, name: http, protocol: HTTP}
          hosts: ["*"]
          tls: {httpsRedirect: true}
        - port: {number: 8443, name: https-a, protocol: HTTPS}
          hosts: [a.example.com]
          tls: {mode: SIMPLE, credentialName: a-cert}
        - port: {number: 8443, name: https-b, protocol: HTTPS}
          hosts: [b.example.com]
          tls: {mode: SIMPLE, credentialName: b-cert}
        - port: {number: 8443, name: https-m, protocol: HTTPS}
          hosts: [m.example.com]
          tls: {mode: MUTUAL, credentialName: m-cert}
        - port: {number: 8443, name: https-c, protocol: HTTPS}
          hosts: [c.example.com]
          tls: {mode: SIMPLE, credentialName: c-cert}
        - port: {number: 8443, name: tls-p, protocol: TLS}
          hosts: [p.example.com]
          tls: {mode: PASSTHROUGH}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: web, namespace: weather}
      spec:
        hosts: [a.example.com, b.example.com, m.example.com, c.example.com]
        gateways: [istio-system/web]
        http:
        - route:
          - destination: {host: forecast, port: {number: 8080}}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: secure, namespace: weather}
      spec:
        hosts: [p.example.com]
        gateways: [istio-system/web]
        tls:
        - match:
          - sniHosts: [p.example.com]
          route:
          - destination: {host: secure, port: {number: 9443}}
      """;

  @Test
  void simpleServesTheRightCertificatePerSni() throws Exception {
    Answer a = get("a.example.com", null);
    Answer b = get("b.example.com", null);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body()).contains("instance=forecast-v1-0");
    assertThat(a.peerCn()).isEqualTo("a.example.com");
    assertThat(b.status()).isEqualTo(200);
    assertThat(b.peerCn()).isEqualTo("b.example.com");
    // no client certificate: SANITIZE_SET removes what the client sent
    assertThat(mesh.apps.getFirst().headersByPath.get("/hello"))
        .doesNotContainKey("x-forwarded-client-cert");
  }

  @Test
  void mutualRefusesAClientWithoutCertificateAndAcceptsOneSignedByTheCa() throws Exception {
    assertThatThrownBy(() -> get("m.example.com", null)).isInstanceOf(IOException.class);
    Pki.Issued client = pki.issue("client.example.com");
    Answer ok = get("m.example.com", client);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.peerCn()).isEqualTo("m.example.com");
    // The gateway terminated TLS: the scheme it forwards is https. (Its XFCC element does not
    // reach the app here: this harness's gateway-to-sidecar hop is plaintext, and the sidecar's
    // APPEND_FORWARD sanitizes XFCC on a connection without a client certificate, as Envoy.)
    Map<String, String> seen = mesh.apps.getFirst().headersByPath.get("/hello");
    assertThat(seen).containsEntry("x-forwarded-proto", "https");
    Pki other = new Pki();
    assertThatThrownBy(() -> get("m.example.com", other.issue("stranger.example.com")))
        .isInstanceOf(IOException.class);
  }

  @Test
  void passthroughRoutesBySniToTheTlsBackendUntouched() throws Exception {
    Answer p = get("p.example.com", null);
    assertThat(p.status()).isEqualTo(200);
    assertThat(p.body()).isEqualTo("backend=passthrough");
    // the handshake was the backend's own: its certificate, not one of the gateway's
    assertThat(p.peerSerial()).isEqualTo(backendCert.cert().getSerialNumber());
  }

  @Test
  void httpsRedirectAnswers301() throws Exception {
    try (Socket s = new Socket(GW, HTTP)) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              "GET /forecast?city=x HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(response).startsWith("HTTP/1.1 301");
      assertThat(response.toLowerCase(java.util.Locale.ROOT))
          .contains("location: https://a.example.com/forecast?city=x");
    }
  }

  @Test
  void aChainWhoseSecretIsMissingRefusesUntilTheSecretArrives() throws Exception {
    assertThatThrownBy(() -> get("c.example.com", null)).isInstanceOf(IOException.class);
    Files.writeString(dir.resolve("c-cert.yaml"), secret("c-cert", pki.issue("c.example.com")));
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> "c.example.com".equals(get("c.example.com", null).peerCn()));
  }

  @Test
  void rotatingTheSecretChangesNewHandshakesAndKeepsAnOpenConnection() throws Exception {
    Pki.Issued first = pki.issue("a.example.com");
    Files.writeString(dir.resolve("secrets-a.yaml"), secret("a-cert", first));
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () -> first.cert().getSerialNumber().equals(get("a.example.com", null).peerSerial()));
    try (SSLSocket open = connect("a.example.com", null)) {
      assertThat(request(open, "a.example.com", true).status()).isEqualTo(200);
      Pki.Issued second = pki.issue("a.example.com");
      replace(dir.resolve("secrets-a.yaml"), secret("a-cert", second));
      await()
          .atMost(Duration.ofSeconds(20))
          .ignoreExceptions()
          .until(
              () ->
                  second.cert().getSerialNumber().equals(get("a.example.com", null).peerSerial()));
      // the connection made before the rotation still serves, on its original certificate
      Answer again = request(open, "a.example.com", true);
      assertThat(again.status()).isEqualTo(200);
      assertThat(again.peerSerial()).isEqualTo(first.cert().getSerialNumber());
    }
  }

  @Test
  void anInvalidSecretNeverReplacesTheLastGoodOne() throws Exception {
    Pki.Issued good = pki.issue("b.example.com");
    Files.writeString(dir.resolve("secrets-b.yaml"), secret("b-cert", good));
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> good.cert().getSerialNumber().equals(get("b.example.com", null).peerSerial()));
    // a key that belongs to another certificate: refused by validation, the good one stays
    Pki.Issued other = pki.issue("b.example.com");
    replace(
        dir.resolve("secrets-b.yaml"), secret("b-cert", new Pki.Issued(other.key(), good.cert())));
    Thread.sleep(1500); // longer than the watcher and push debounce
    assertThat(get("b.example.com", null).peerSerial()).isEqualTo(good.cert().getSerialNumber());
  }

  // ---- helpers ----

  /**
   * Replaces a watched file in one step (write beside it, rename over it), as a ConfigMap update
   * does. A plain write is a truncate and then a write: on a loaded machine the watcher can read
   * the empty file in between, which deletes the Secret for a moment (the gateway then drops the
   * certificate this test expects to stay).
   */
  static void replace(Path file, String content) throws Exception {
    Path next = file.resolveSibling(file.getFileName() + ".next");
    Files.writeString(next, content);
    Files.move(
        next,
        file,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  record Answer(int status, String body, String peerCn, BigInteger peerSerial) {}

  static String secret(String name, Pki.Issued c) {
    return "apiVersion: v1\nkind: Secret\nmetadata: {name: "
        + name
        + ", namespace: istio-system}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: "
        + b64(Pki.pem(c.cert()))
        + "\n  tls.key: "
        + b64(Pki.pem(c.key().getPrivate()))
        + "\n";
  }

  static String secretWithCa(String name, Pki.Issued c) {
    return secret(name, c) + "  ca.crt: " + b64(Pki.pem(pki.root)) + "\n";
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
  }

  static Answer get(String sni, Pki.Issued clientCert) throws Exception {
    try (SSLSocket s = connect(sni, clientCert)) {
      return request(s, sni, false);
    }
  }

  static SSLSocket connect(String sni, Pki.Issued clientCert) throws Exception {
    SSLContext ctx = pki.clientContext(clientCert);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
    s.connect(new InetSocketAddress(GW, HTTPS), 5000);
    s.setSoTimeout(5000);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    p.setApplicationProtocols(new String[] {"http/1.1"});
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  /** One HTTP/1.1 request on {@code s}; reads exactly the response (Content-Length). */
  static Answer request(SSLSocket s, String host, boolean keepAlive) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(
        ("GET /hello HTTP/1.1\r\nHost: "
                + host
                + "\r\n"
                + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    String status = in.readLine();
    if (status == null) {
      throw new IOException("connection closed without a response");
    }
    int length = 0;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    char[] body = new char[length];
    int read = 0;
    while (read < length) {
      int n = in.read(body, read, length - read);
      if (n < 0) {
        break;
      }
      read += n;
    }
    X509Certificate peer = (X509Certificate) s.getSession().getPeerCertificates()[0];
    String cn = peer.getSubjectX500Principal().getName().replaceFirst("^CN=", "");
    return new Answer(
        Integer.parseInt(status.split(" ")[1]),
        new String(body, 0, read),
        cn,
        peer.getSerialNumber());
  }

  /** A throwaway CA for this test: ECDSA P-256 leaves with one DNS SAN. */
  static final class Pki {
    final KeyPair rootKey = ec();
    final X509Certificate root;
    final AtomicLong serial = new AtomicLong(System.nanoTime());

    record Issued(KeyPair key, X509Certificate cert) {}

    Pki() throws Exception {
      X500Name subject = new X500Name("CN=test-root-" + serial.get());
      root =
          sign(
              new JcaX509v3CertificateBuilder(
                      subject,
                      BigInteger.valueOf(serial.getAndIncrement()),
                      Date.from(Instant.now().minusSeconds(300)),
                      Date.from(Instant.now().plus(Duration.ofDays(1))),
                      subject,
                      rootKey.getPublic())
                  .addExtension(Extension.basicConstraints, true, new BasicConstraints(true)));
    }

    Issued issue(String dns) throws Exception {
      KeyPair key = ec();
      X509Certificate cert =
          sign(
              new JcaX509v3CertificateBuilder(
                      new X500Name(root.getSubjectX500Principal().getName()),
                      BigInteger.valueOf(serial.getAndIncrement()),
                      Date.from(Instant.now().minusSeconds(300)),
                      Date.from(Instant.now().plus(Duration.ofDays(1))),
                      new X500Name("CN=" + dns),
                      key.getPublic())
                  .addExtension(
                      Extension.subjectAlternativeName,
                      false,
                      new GeneralNames(new GeneralName(GeneralName.dNSName, dns))));
      return new Issued(key, cert);
    }

    private X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder b)
        throws Exception {
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
    }

    static KeyPair ec() {
      try {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    static String pem(Object o) {
      if (o instanceof java.security.PrivateKey k) {
        // PKCS#8 as the JDK encodes it (JcaPEMWriter's SEC1 form of a JDK 25 key lacks the curve)
        return "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(k.getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
      }
      StringWriter w = new StringWriter();
      try (JcaPEMWriter p = new JcaPEMWriter(w)) {
        p.writeObject(o);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return w.toString();
    }

    SSLContext clientContext(Issued clientCert) throws Exception {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("root", root);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (clientCert != null) {
        kmf = keys(clientCert);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    }

    SSLContext serverContext(Issued c) throws Exception {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys(c).getKeyManagers(), null, new SecureRandom());
      return ctx;
    }

    private KeyManagerFactory keys(Issued c) throws Exception {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("k", c.key().getPrivate(), new char[0], new Certificate[] {c.cert()});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
      return kmf;
    }
  }
}
