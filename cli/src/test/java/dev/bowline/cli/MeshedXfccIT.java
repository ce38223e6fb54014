package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code x-forwarded-client-cert} through the ingress gateway to a sidecar, as istiod 1.16 sets it
 * up: the gateway's connection manager SANITIZE_SET (with subject, cert, URI and DNS), the
 * sidecar's inbound one APPEND_FORWARD (subject, URI, DNS), auto mTLS between them with the
 * runner's CA. {@code bowline up} runs an echo app behind its sidecar and the gateway (its own
 * address, so it never meets another run's 127.0.0.1:8080). Proves: a plaintext client's forged
 * XFCC is dropped at the gateway and the app sees exactly the sidecar's element for the gateway (By
 * = the app's SPIFFE id, Hash = SHA-256 of the gateway's workload certificate, read from its agent
 * over SDS, URI = the gateway's SPIFFE id); a client with a certificate on a MUTUAL gateway server
 * gets the gateway's element (its certificate's hash, PEM, subject and DNS SAN) with the sidecar's
 * appended after it.
 */
class MeshedXfccIT {
  private static final String CONTROL_PLANE = TestNet.ip("127.0.0.214");
  private static final String FIRST = TestNet.ip("127.0.0.215");
  private static final String GATEWAY = TestNet.ip("127.0.0.216");
  private static final String APP_ID = "spiffe://cluster.local/ns/weather/sa/echo";
  private static final String GATEWAY_ID =
      "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";

  private static final String MESH =
      """
      workloads:
      - name: echo-v1
        namespace: weather
        labels: {app: echo, version: v1}
        ports: [{name: http-echo, number: 9080}]
        serviceAccount: echo
        command: [%s, %s, "${BOWLINE_ADDRESS}", "${BOWLINE_PORT_HTTP_ECHO}"]
      gateways:
      - name: istio-ingressgateway
        namespace: istio-system
        labels: {istio: ingressgateway}
        address: %s
        ports: [{name: http2, number: 80, targetPort: 8080}, {name: https, number: 443, targetPort: 8443}]
      """;

  /** The app: answers with the XFCC header it got (or NONE). */
  private static final String ECHO_SOURCE =
      """
      import com.sun.net.httpserver.*;
      import java.net.*;
      public class Echo {
        public static void main(String[] a) throws Exception {
          HttpServer s = HttpServer.create(new InetSocketAddress(a[0], Integer.parseInt(a[1])), 50);
          s.createContext("/", ex -> {
            String x = ex.getRequestHeaders().getFirst("x-forwarded-client-cert");
            byte[] body = ("xfcc=" + (x == null ? "NONE" : x)).getBytes();
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
          });
          s.start();
        }
      }
      """;

  private static final String CONFIG =
      """
      apiVersion: networking.istio.io/v1beta1
      kind: Gateway
      metadata: {name: echo-gateway, namespace: weather}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*"]
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: ["gw.example.com"]
          tls: {mode: MUTUAL, credentialName: gw-cert}
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: VirtualService
      metadata: {name: echo, namespace: weather}
      spec:
        hosts: ["*"]
        gateways: [echo-gateway]
        http:
        - route: [{destination: {host: echo.weather.svc.cluster.local, port: {number: 9080}}}]
      """;

  @TempDir Path dir;
  @RegisterExtension final Leftovers started = new Leftovers();

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
  }

  /** One HTTP/1.1 exchange on {@code s}; returns the response body. */
  private static String exchange(Socket s, String host, String... headers) throws Exception {
    StringBuilder req = new StringBuilder("GET /headers HTTP/1.1\r\nhost: " + host + "\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    req.append("connection: close\r\n\r\n");
    OutputStream out = s.getOutputStream();
    out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    String status = in.readLine();
    String line;
    while ((line = in.readLine()) != null && !line.isEmpty()) {
      // headers
    }
    StringBuilder body = new StringBuilder();
    while ((line = in.readLine()) != null) {
      body.append(line);
    }
    return status + " " + body;
  }

  private static String plain(String... headers) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(GATEWAY, 8080), 2000);
      s.setSoTimeout(10_000);
      return exchange(s, "echo.example.com", headers);
    } catch (Exception e) {
      return "error: " + e;
    }
  }

  /** The leaf of the {@code default} certificate the gateway's agent serves over SDS. */
  private static X509Certificate gatewayCertificate(Path socket) throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(group)
            .usePlaintext()
            .build();
    try {
      CompletableFuture<DiscoveryResponse> first = new CompletableFuture<>();
      var requests =
          SecretDiscoveryServiceGrpc.newStub(channel)
              .streamSecrets(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse r) {
                      first.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                      first.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                  });
      requests.onNext(
          DiscoveryRequest.newBuilder()
              .setNode(Node.newBuilder().setId("xfcc-test"))
              .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
              .addResourceNames("default")
              .build());
      DiscoveryResponse r = first.get(20, TimeUnit.SECONDS);
      Secret secret = r.getResources(0).unpack(Secret.class);
      var chain = secret.getTlsCertificate().getCertificateChain();
      byte[] pem =
          chain.hasInlineBytes()
              ? chain.getInlineBytes().toByteArray()
              : chain.getInlineString().getBytes(StandardCharsets.US_ASCII);
      requests.onCompleted();
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem))
              .iterator()
              .next();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static String sha256(X509Certificate c) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
  }

  @Test
  void theAppBehindTheSidecarSeesTheGatewayAndItsClientInXfcc() throws Exception {
    GatewayTlsIT.Pki pki = new GatewayTlsIT.Pki();
    GatewayTlsIT.Pki.Issued server = pki.issue("gw.example.com");
    GatewayTlsIT.Pki.Issued client = pki.issue("client.example.com");
    Path config = Files.createDirectories(dir.resolve("config"));
    Files.writeString(config.resolve("echo.yaml"), CONFIG);
    Files.writeString(
        config.resolve("secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: gw-cert, namespace: istio-system}\n"
            + "type: kubernetes.io/tls\ndata:\n  tls.crt: "
            + b64(GatewayTlsIT.Pki.pem(server.cert()))
            + "\n  tls.key: "
            + b64(GatewayTlsIT.Pki.pem(server.key().getPrivate()))
            + "\n  ca.crt: "
            + b64(GatewayTlsIT.Pki.pem(pki.root))
            + "\n");
    Path source = dir.resolve("Echo.java");
    Files.writeString(source, ECHO_SOURCE);
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path meshFile = dir.resolve("mesh.yaml");
    Files.writeString(meshFile, MESH.formatted(java, source, GATEWAY));
    UpProcess up =
        UpProcess.start(
            dir,
            "-f",
            meshFile.toString(),
            "--first-address",
            FIRST,
            "--control-plane-address",
            CONTROL_PLANE,
            "--config-dir",
            config.toString(),
            "--ready-timeout-s",
            "120");
    started.add(up.process);
    String output = up.awaitSummary(Duration.ofSeconds(180));
    assertThat(output).as(output).contains("1 of 1 instances ready");

    X509Certificate gatewayCert =
        gatewayCertificate(dir.resolve("run/istio-ingressgateway-0.istio-system/sds.sock"));
    assertThat(
            dev.bowline.proxy.tls.SanMatcher.sans(
                gatewayCert, dev.bowline.proxy.tls.SanMatcher.Type.URI))
        .containsExactly(GATEWAY_ID);
    String sidecarElement =
        "By="
            + APP_ID
            + ";Hash="
            + sha256(gatewayCert)
            + ";Subject=\""
            + gatewayCert.getSubjectX500Principal().getName(X500Principal.RFC2253)
            + "\";URI="
            + GATEWAY_ID;

    // A plaintext client: the gateway (SANITIZE_SET) drops its forged header; gateway to sidecar
    // is mutual TLS, so the sidecar (APPEND_FORWARD) adds its element for the gateway.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> plain().startsWith("HTTP/1.1 200"));
    String viaPlain = plain("x-forwarded-client-cert", "By=spiffe://evil;URI=spiffe://evil");
    assertThat(viaPlain).isEqualTo("HTTP/1.1 200 OK xfcc=" + sidecarElement);

    // A client with a certificate on the MUTUAL server: the gateway's element for it first.
    String clientElement =
        "Hash="
            + sha256(client.cert())
            + ";Cert=\""
            + URLEncoder.encode(GatewayTlsIT.Pki.pem(client.cert()), StandardCharsets.UTF_8)
                .replace("+", "%20")
            + "\";Subject=\"CN=client.example.com\";DNS=client.example.com";
    String viaMtls;
    try (SSLSocket s = (SSLSocket) pki.clientContext(client).getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress(GATEWAY, 8443), 5000);
      s.setSoTimeout(10_000);
      SSLParameters p = s.getSSLParameters();
      p.setServerNames(List.of(new SNIHostName("gw.example.com")));
      p.setApplicationProtocols(new String[] {"http/1.1"});
      s.setSSLParameters(p);
      s.startHandshake();
      viaMtls = exchange(s, "gw.example.com", "x-forwarded-client-cert", "By=spiffe://evil");
    }
    assertThat(viaMtls).isEqualTo("HTTP/1.1 200 OK xfcc=" + clientElement + "," + sidecarElement);
  }
}
