package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.Proxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol sniffing end to end, through the real control plane and two of our real proxies in local
 * mode: a service port named {@code data} (no protocol prefix, no protocol: Istio detects it) gets
 * a sniffing egress listener on the client's sidecar and a sniffing inbound listener on the
 * server's. HTTP and raw TCP sent to the same port both reach the same app, and the HTTP requests
 * get HTTP routing (a VirtualService header match and a header set by its route) on the client side
 * and the HTTP inbound chain on the server side, while the TCP bytes pass through untouched.
 */
class ProtocolSniffingTest {
  static final String CLIENT_IP = "127.0.0.70";
  static final String SERVER_IP = "127.0.0.71";

  @TempDir Path dir;
  ServerSocket app;
  LocalMesh mesh;
  TestSds sds;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    if (sds != null) {
      sds.close();
    }
    if (app != null) {
      app.close();
    }
  }

  /**
   * An app that speaks both protocols on one port: an HTTP/1.1 request is answered with its own
   * headers as the body; any other line is echoed back as {@code tcp:<line>}.
   */
  ServerSocket app() throws IOException {
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName(SERVER_IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket c = s.accept();
                  Thread.ofVirtual().start(() -> serve(c));
                } catch (IOException e) {
                  // closed
                }
              }
            });
    return s;
  }

  static void serve(Socket c) {
    try (c) {
      BufferedReader in =
          new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = c.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.endsWith(" HTTP/1.1")) {
          StringBuilder headers = new StringBuilder();
          String h;
          while ((h = in.readLine()) != null && !h.isEmpty()) {
            headers.append(h.toLowerCase(Locale.ROOT)).append('\n');
          }
          byte[] body = headers.toString().getBytes(StandardCharsets.UTF_8);
          out.write(
              ("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                      + body.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(body);
        } else {
          out.write(("tcp:" + line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
      }
    } catch (IOException e) {
      // client gone
    }
  }

  @Test
  void httpAndRawTcpOnTheSameUndeclaredPortBothWorkAndHttpIsRouted() throws Exception {
    app = app();
    int port = LocalMesh.freePort(CLIENT_IP);
    Files.writeString(
        dir.resolve("echo.yaml"),
        LocalMesh.plaintextEcho(
                """
                ports: [{number: %1$d, name: data}]
                endpoints: [{address: %2$s, ports: {data: %1$d}, labels: {app: echo}}]
                """
                    .formatted(port, SERVER_IP))
            + """
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: %1$d, name: data}
            bind: %3$s
            captureMode: NONE
            hosts: [./echo.shop.example]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: echo, namespace: shop}
        spec:
          hosts: [echo.shop.example]
          http:
          - match: [{headers: {x-variant: {exact: teapot}}}]
            fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
            route: [{destination: {host: echo.shop.example}}]
          - headers: {request: {set: {x-routed-by: echo-vs}}}
            route: [{destination: {host: echo.shop.example}}]
        """
                .formatted(port, SERVER_IP, CLIENT_IP));
    mesh = LocalMesh.start(dir);
    start(CLIENT_IP, "client-1", "{app: client}", "");
    Proxy server =
        start(
            SERVER_IP,
            "echo-1",
            "{app: echo}",
            "POD_PORTS: '[{\"name\":\"data\",\"containerPort\":%d}]'"
                .formatted(app.getLocalPort()));

    InetSocketAddress sidecar = new InetSocketAddress(CLIENT_IP, port);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> tcp(sidecar, "ping").equals("tcp:ping"));

    // raw TCP: the bytes reach the app as they are
    assertThat(tcp(sidecar, "hello over tcp")).isEqualTo("tcp:hello over tcp");

    // HTTP on the same port: routed by the VirtualService
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://" + CLIENT_IP + ":" + port + "/hello");
    HttpResponse<String> routed =
        http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(routed.statusCode()).isEqualTo(200);
    assertThat(routed.body()).contains("x-routed-by: echo-vs");
    HttpResponse<String> teapot =
        http.send(
            HttpRequest.newBuilder(uri).header("x-variant", "teapot").build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(teapot.statusCode()).isEqualTo(418);

    // and TCP still works after HTTP went through
    assertThat(tcp(sidecar, "again")).isEqualTo("tcp:again");

    // the server's sidecar took its HTTP inbound chain for the HTTP request (an HTTP connection
    // manager counted it) and its TCP chain for the rest
    String serverStats = server.stats().text();
    System.out.println("server_stats:\n" + serverStats);
    String inboundHttp = "http.inbound_0.0.0.0_" + app.getLocalPort() + ".downstream_rq_total";
    assertThat(LocalMesh.counter(serverStats, inboundHttp)).isEqualTo(1);
  }

  /**
   * HTTP over Istio mTLS to a sniffed port: the client sidecar's {@code istio.alpn} filter offers
   * {@code istio-http/1.1} on the upstream handshake, so the server sidecar's STRICT inbound
   * listener picks its mTLS <b>HTTP</b> chain: an AuthorizationPolicy with an HTTP-only {@code
   * paths} rule is enforced per request (on the TCP chain istiod drops such a rule and the ALLOW
   * policy would deny every connection), and the inbound connection manager tells the app who
   * called ({@code x-forwarded-client-cert} with the client's SPIFFE id).
   */
  @Test
  void httpOverMtlsToASniffedPortLandsOnTheServersHttpChain() throws Exception {
    app = app();
    sds = new TestSds("127.0.0.1");
    int port = LocalMesh.freePort(CLIENT_IP);
    Files.writeString(
        dir.resolve("echo.yaml"),
        LocalMesh.echoService(
                """
                ports: [{number: %1$d, name: data}]
                endpoints: [{address: %2$s, ports: {data: %1$d}, labels: {app: echo}, serviceAccount: echo}]
                """
                    .formatted(port, SERVER_IP),
                "ISTIO_MUTUAL",
                "STRICT")
            + """
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: echo-paths, namespace: shop}
        spec:
          selector: {matchLabels: {app: echo}}
          action: ALLOW
          rules: [{to: [{operation: {paths: [/allowed]}}]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: %1$d, name: data}
            bind: %3$s
            captureMode: NONE
            hosts: [./echo.shop.example]
        """
                .formatted(port, SERVER_IP, CLIENT_IP));
    mesh = LocalMesh.start(dir);
    start(CLIENT_IP, "client-1", "{app: client}", "", sds.cluster("127.0.0.1"));
    Proxy server =
        start(
            SERVER_IP,
            "echo-1",
            "{app: echo}",
            "POD_PORTS: '[{\"name\":\"data\",\"containerPort\":%d}]'".formatted(app.getLocalPort()),
            sds.cluster("127.0.0.1"));

    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI allowed = URI.create("http://" + CLIENT_IP + ":" + port + "/allowed");
    HttpResponse<String> ok =
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(
                () -> http.send(HttpRequest.newBuilder(allowed).build(), BodyHandlers.ofString()),
                r -> r.statusCode() == 200);
    // the server sidecar's inbound HTTP connection manager set XFCC from the mTLS peer
    assertThat(ok.body())
        .contains("x-forwarded-client-cert:")
        .contains("uri=spiffe://cluster.local/ns/shop/sa/client");

    URI denied = URI.create("http://" + CLIENT_IP + ":" + port + "/denied");
    HttpResponse<String> no =
        http.send(HttpRequest.newBuilder(denied).build(), BodyHandlers.ofString());
    assertThat(no.statusCode()).isEqualTo(403);
    assertThat(no.body()).isEqualTo("RBAC: access denied");

    String serverStats = server.stats().text();
    String inbound = "http.inbound_0.0.0.0_" + app.getLocalPort() + ".";
    assertThat(LocalMesh.counter(serverStats, inbound + "downstream_rq_total"))
        .isGreaterThanOrEqualTo(2);
    assertThat(LocalMesh.counter(serverStats, inbound + "rbac.denied")).isEqualTo(1);
  }

  /** One line over a new TCP connection, and the line that comes back. */
  static String tcp(InetSocketAddress to, String line) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 2000);
      s.setSoTimeout(5000);
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String back = in.readLine();
      return back == null ? "" : back;
    }
  }

  /**
   * Istio's HTTP/1.0 switch: a sidecar whose node metadata says {@code HTTP10: "1"} ({@code
   * ISTIO_META_HTTP10}) accepts HTTP/1.0 requests on its connection managers; one without answers
   * them 426, as Envoy does by default.
   */
  @Test
  void http10IsServedOnlyToSidecarsWhoseMetadataAsksForIt() throws Exception {
    app = app();
    String oldClientIp = "127.0.0.72";
    int port = LocalMesh.freePort(CLIENT_IP);
    Files.writeString(
        dir.resolve("echo.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: echo, namespace: shop}
        spec:
          hosts: [echo.shop.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %1$d, name: http, targetPort: %4$d}]
          endpoints: [{address: %2$s, labels: {app: echo}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: shop}
        spec:
          host: echo.shop.example
          trafficPolicy: {tls: {mode: DISABLE}}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: %1$d, name: http, protocol: HTTP}
            bind: %3$s
            captureMode: NONE
            hosts: [./echo.shop.example]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: old-client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: old-client}}
          egress:
          - port: {number: %1$d, name: http, protocol: HTTP}
            bind: %5$s
            captureMode: NONE
            hosts: [./echo.shop.example]
        """
            .formatted(port, SERVER_IP, CLIENT_IP, app.getLocalPort(), oldClientIp));
    mesh = LocalMesh.start(dir);
    start(CLIENT_IP, "client-1", "{app: client}", "");
    start(oldClientIp, "old-client-1", "{app: old-client}", "HTTP10: \"1\"");

    InetSocketAddress plain = new InetSocketAddress(CLIENT_IP, port);
    InetSocketAddress old = new InetSocketAddress(oldClientIp, port);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> http10(old).startsWith("HTTP/1.1 200"));
    String served = http10(old);
    assertThat(served).startsWith("HTTP/1.1 200").contains("host: echo.shop.example");
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> !http10(plain).isEmpty());
    assertThat(http10(plain)).startsWith("HTTP/1.1 426");
  }

  /** An HTTP/1.0 request over a new connection; the whole answer (the proxy closes after it). */
  static String http10(InetSocketAddress to) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 2000);
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              "GET /old HTTP/1.0\r\nHost: echo.shop.example\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  Proxy start(String ip, String name, String labels, String extraMetadata) throws IOException {
    return start(ip, name, labels, extraMetadata, "");
  }

  Proxy start(String ip, String name, String labels, String extraMetadata, String extraClusters)
      throws IOException {
    List<String> metadata =
        extraMetadata.isEmpty()
            ? List.of("LABELS: " + labels)
            : List.of("LABELS: " + labels, extraMetadata);
    return mesh.sidecar(LocalMesh.DELTA, ip, name, metadata, extraClusters);
  }
}
