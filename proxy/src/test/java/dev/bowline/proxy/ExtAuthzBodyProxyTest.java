package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.http.filter.extauthz.ExtAuthzFactory;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ext_authz {@code with_request_body} over real sockets, through the filter framework's body hook:
 * a real HTTP authorizer and a real gRPC {@code Authorization} server see the body (whole, or its
 * first {@code max_request_bytes} with {@code allow_partial_message}), a longer body without it is
 * answered 413, and the backend always gets the body unchanged; bodies come with a length, chunked
 * over HTTP/1.1 and as HTTP/2 DATA frames.
 */
class ExtAuthzBodyProxyTest {
  static final String IP = "127.0.33.1";
  static final String BACKEND_IP = "127.0.33.2";
  static final String AUTHZ_IP = "127.0.33.3";

  static HttpServer backend;
  static HttpServer httpAuthz;
  static Server grpcAuthz;
  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static H2Client h2Client;
  static Proxy proxy;
  static int wholePort;
  static int partialPort;
  static int grpcBytesPort;
  static int grpcStringPort;
  static final AtomicReference<String> checkBody = new AtomicReference<>();
  static final Map<String, String> checkHeaders = new ConcurrentHashMap<>();
  static final AtomicInteger httpChecks = new AtomicInteger();
  static final AtomicReference<CheckRequest> grpcCheck = new AtomicReference<>();
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String listener(String name, int port, String extAuthz) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  codec_type: AUTO
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      transport_api_version: V3
        %4$s
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend}}]
        """
        .formatted(name, IP, port, extAuthz.indent(14).stripTrailing());
  }

  // Timeouts far above any answer's time: nothing here tests them, and with 2 s a run at load 20
  // answered a request checked by the gRPC authorizer with an empty body, as an authorizer
  // timeout is (403, status_on_error), instead of forwarding it (decision 0044, rule 3).
  static final String HTTP_SERVICE =
      """
      http_service:
        server_uri: {uri: "http://ext-authz", cluster: authz-http, timeout: 30s}
        authorization_request:
          allowed_headers: {patterns: [{exact: x-envoy-auth-partial-body}]}
      """;

  static final String GRPC_SERVICE =
      "grpc_service: {envoy_grpc: {cluster_name: authz-grpc}, timeout: 30s}\n";

  @BeforeAll
  static void start() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          // echoes the body it got, so the test sees what went upstream
          byte[] in = ex.getRequestBody().readAllBytes();
          byte[] out =
              ("backend len=" + in.length + " body=" + new String(in, StandardCharsets.UTF_8))
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();

    httpAuthz = HttpServer.create(new InetSocketAddress(AUTHZ_IP, 0), 64);
    httpAuthz.setExecutor(executor);
    httpAuthz.createContext(
        "/",
        ex -> {
          httpChecks.incrementAndGet();
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          checkHeaders.clear();
          ex.getRequestHeaders().forEach((k, v) -> checkHeaders.put(k.toLowerCase(), v.get(0)));
          checkBody.set(body);
          boolean deny = body.contains("deny");
          byte[] out = (deny ? "the body says no" : "").getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(deny ? 403 : 200, out.length == 0 ? -1 : out.length);
          if (out.length > 0) {
            ex.getResponseBody().write(out);
          }
          ex.close();
        });
    httpAuthz.start();

    grpcAuthz =
        NettyServerBuilder.forAddress(new InetSocketAddress(AUTHZ_IP, 0))
            .addService(
                new AuthorizationGrpc.AuthorizationImplBase() {
                  @Override
                  public void check(CheckRequest req, StreamObserver<CheckResponse> out) {
                    grpcCheck.set(req);
                    var http = req.getAttributes().getRequest().getHttp();
                    boolean deny =
                        http.getBody().contains("deny")
                            || http.getRawBody().toStringUtf8().contains("deny");
                    CheckResponse.Builder r = CheckResponse.newBuilder();
                    if (deny) {
                      r.setStatus(com.google.rpc.Status.newBuilder().setCode(7))
                          .setDeniedResponse(
                              DeniedHttpResponse.newBuilder()
                                  .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Forbidden))
                                  .setBody("grpc: the body says no"));
                    } else {
                      r.setStatus(com.google.rpc.Status.newBuilder().setCode(0));
                    }
                    out.onNext(r.build());
                    out.onCompleted();
                  }
                })
            .build()
            .start();

    wholePort = Ports.free(IP);
    partialPort = Ports.free(IP);
    grpcBytesPort = Ports.free(IP);
    grpcStringPort = Ports.free(IP);
    String bs =
        "node: {id: ext-authz-body-test, cluster: test}\nstatic_resources:\n  listeners:\n"
            + listener(
                "whole", wholePort, HTTP_SERVICE + "with_request_body: {max_request_bytes: 16}\n")
            + listener(
                "partial",
                partialPort,
                HTTP_SERVICE
                    + "with_request_body: {max_request_bytes: 16, allow_partial_message: true}\n")
            + listener(
                "grpc_bytes",
                grpcBytesPort,
                GRPC_SERVICE
                    + "with_request_body: {max_request_bytes: 16, allow_partial_message: true,"
                    + " pack_as_bytes: true}\n")
            + listener(
                "grpc_string",
                grpcStringPort,
                GRPC_SERVICE + "with_request_body: {max_request_bytes: 1024}\n")
            + "  clusters:\n"
            + ExtAuthzProxyTest.cluster(
                "backend", BACKEND_IP, backend.getAddress().getPort(), false)
            + ExtAuthzProxyTest.cluster(
                "authz-http", AUTHZ_IP, httpAuthz.getAddress().getPort(), false)
            + ExtAuthzProxyTest.cluster("authz-grpc", AUTHZ_IP, grpcAuthz.getPort(), true);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("ext-authz-body.yaml", bs),
            ProxyOptions.defaults().withWorkers(1));
    h2Client = new H2Client();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    h2Client.close();
    backend.stop(0);
    httpAuthz.stop(0);
    grpcAuthz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    executor.close();
  }

  static HttpResponse<String> post(int port, String body, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/upload"))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  /** An HTTP/1.1 request with a chunked body, one chunk per write; returns the whole answer. */
  static String chunked(int port, String... chunks) throws IOException {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /chunked HTTP/1.1\r\nhost: a.test\r\ntransfer-encoding: chunked\r\n"
                  + "connection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (String c : chunks) {
        byte[] b = c.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** An HTTP/2 (prior knowledge) POST whose body goes as one DATA frame per chunk. */
  static String h2(int port, String... chunks) throws Exception {
    Channel conn = h2Client.connect(IP, port);
    try {
      CompletableFuture<String> reply = new CompletableFuture<>();
      Http2StreamChannel stream = H2Client.exchange(conn, reply);
      var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/h2");
      head.headers().set("host", "a.test");
      stream.writeAndFlush(head);
      for (String c : chunks) {
        stream
            .writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(c, StandardCharsets.UTF_8)))
            .sync();
      }
      stream.writeAndFlush(new DefaultLastHttpContent());
      return reply.get(10, TimeUnit.SECONDS);
    } finally {
      conn.close();
    }
  }

  @Test
  void httpAuthorizerSeesTheWholeBodyAndTheBackendGetsItUnchanged() throws Exception {
    // a client's own partial-body header never reaches the authorizer
    var r = post(wholePort, "hello body", "x-envoy-auth-partial-body", "forged");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("backend len=10 body=hello body");
    assertThat(checkBody.get()).isEqualTo("hello body");
    assertThat(checkHeaders)
        .containsEntry("content-length", "10")
        .containsEntry("x-envoy-auth-partial-body", "false");

    var denied = post(wholePort, "please deny");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).isEqualTo("the body says no");
  }

  @Test
  void aBodyOverTheLimitWithoutAllowPartialIs413AndNeverChecked() throws Exception {
    int checks = httpChecks.get();
    long tooLarge = stat("http.whole.downstream_rq_too_large");
    var r = post(wholePort, "x".repeat(17));
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).isEqualTo("Payload Too Large");
    assertThat(httpChecks.get()).isEqualTo(checks);
    assertThat(stat("http.whole.downstream_rq_too_large")).isEqualTo(tooLarge + 1);

    // exactly the limit is fine
    var atLimit = post(wholePort, "y".repeat(16));
    assertThat(atLimit.body()).isEqualTo("backend len=16 body=" + "y".repeat(16));
    assertThat(checkBody.get()).isEqualTo("y".repeat(16));
  }

  @Test
  void allowPartialChecksTheFirstBytesAndForwardsAll() throws Exception {
    String body = "0123456789abcdefghijklmnopqrstuvwxyz";
    var r = post(partialPort, body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("backend len=36 body=" + body);
    assertThat(checkBody.get()).isEqualTo("0123456789abcdef");
    assertThat(checkHeaders)
        .containsEntry("content-length", "16")
        .containsEntry("x-envoy-auth-partial-body", "true");

    // what lies past the limit is never seen
    assertThat(post(partialPort, "0123456789abcdef-deny").statusCode()).isEqualTo(200);
    assertThat(post(partialPort, "deny-0123456789abcdef").statusCode()).isEqualTo(403);
  }

  @Test
  void chunkedBodiesAreBufferedAcrossChunks() throws Exception {
    String ok = chunked(wholePort, "abc", "defg", "hij");
    assertThat(ok).startsWith("HTTP/1.1 200").endsWith("backend len=10 body=abcdefghij");
    assertThat(checkBody.get()).isEqualTo("abcdefghij");

    String tooLarge = chunked(wholePort, "0123456789", "0123456789");
    assertThat(tooLarge).startsWith("HTTP/1.1 413").endsWith("Payload Too Large");

    String partial = chunked(partialPort, "0123456789", "abcdefghij", "klm");
    assertThat(partial)
        .startsWith("HTTP/1.1 200")
        .endsWith("backend len=23 body=0123456789abcdefghijklm");
    assertThat(checkBody.get()).isEqualTo("0123456789abcdef");
    assertThat(checkHeaders).containsEntry("x-envoy-auth-partial-body", "true");
  }

  @Test
  void aRequestWithoutBodyIsCheckedWithoutOne() throws Exception {
    var r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + wholePort + "/get"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(checkBody.get()).isEmpty();
    assertThat(checkHeaders).doesNotContainKey("x-envoy-auth-partial-body");
  }

  @Test
  void grpcAuthorizerGetsRawBytesOverHttp2DataFrames() throws Exception {
    String reply = h2(grpcBytesPort, "0123456789", "abcdefghij");
    assertThat(reply).isEqualTo("200 backend len=20 body=0123456789abcdefghij");
    var http = grpcCheck.get().getAttributes().getRequest().getHttp();
    assertThat(http.getRawBody().toStringUtf8()).isEqualTo("0123456789abcdef");
    assertThat(http.getBody()).isEmpty();
    assertThat(http.getHeadersMap()).containsEntry("x-envoy-auth-partial-body", "true");
    assertThat(http.getSize()).isEqualTo(20);

    assertThat(h2(grpcBytesPort, "deny")).isEqualTo("403 grpc: the body says no");
  }

  @Test
  void grpcAuthorizerGetsTheBodyAsAStringAndTooLargeIs413() throws Exception {
    var r = post(grpcStringPort, "{\"name\": \"forecast\"}");
    assertThat(r.body()).isEqualTo("backend len=20 body={\"name\": \"forecast\"}");
    var http = grpcCheck.get().getAttributes().getRequest().getHttp();
    assertThat(http.getBody()).isEqualTo("{\"name\": \"forecast\"}");
    assertThat(http.getRawBody().isEmpty()).isTrue();
    assertThat(http.getHeadersMap()).containsEntry("x-envoy-auth-partial-body", "false");

    assertThat(h2(grpcStringPort, "a".repeat(1000), "b".repeat(100)))
        .isEqualTo("413 Payload Too Large");
  }

  @Test
  void maxRequestBytesMustBePositive() {
    var factory = new ExtAuthzFactory(new dev.bowline.proxy.stats.Stats());
    var config =
        ExtAuthz.newBuilder()
            .setGrpcService(
                io.envoyproxy.envoy.config.core.v3.GrpcService.newBuilder()
                    .setEnvoyGrpc(
                        io.envoyproxy.envoy.config.core.v3.GrpcService.EnvoyGrpc.newBuilder()
                            .setClusterName("authz")))
            .setWithRequestBody(BufferSettings.newBuilder().setAllowPartialMessage(true))
            .build();
    assertThatThrownBy(() -> factory.parse(Any.pack(config)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("with_request_body.max_request_bytes: must be greater than 0, got 0");
  }
}
