package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The listener's {@code per_connection_buffer_limit_bytes} over real sockets: a 20 MB upload to a
 * route whose ext_authz check is held open stops being read once the stream holds the limit
 * (HTTP/1.1: the client's writes block; HTTP/2: the stream's window is not returned), so what the
 * client could send stays far below the body; once the check answers, the upload completes and the
 * backend gets every byte. A filter buffering more than the limit gets 413 (Envoy's decoder buffer
 * overflow).
 */
class RequestBufferLimitProxyTest {
  static final String IP = "127.0.34.1";
  static final String BACKEND_IP = "127.0.34.2";
  static final String AUTHZ_IP = "127.0.34.3";
  static final int LIMIT = 256 * 1024;
  static final int BODY = 20 * 1024 * 1024;
  static final int PIECE = 16 * 1024;

  static HttpServer backend;
  static HttpServer authz;
  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static H2Client client;
  static Proxy proxy;
  static int heldPort;
  static int bufferingPort;
  // the check answers once the test completes this
  static final AtomicReference<CompletableFuture<Void>> gate =
      new AtomicReference<>(CompletableFuture.completedFuture(null));

  static String listener(String name, int port, String extAuthz) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            per_connection_buffer_limit_bytes: %5$d
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  codec_type: AUTO
                  # HTTP/2's own window, not Envoy's 256 MiB default: what bounds a paused stream
                  http2_protocol_options: {initial_stream_window_size: 65535}
                  http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      transport_api_version: V3
                      http_service:
                        server_uri: {uri: "http://ext-authz", cluster: authz, timeout: 60s}
        %4$s
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend, timeout: 60s}}]
        """
        .formatted(name, IP, port, extAuthz.indent(14).stripTrailing(), LIMIT);
  }

  static String cluster(String name, String ip, int port) {
    return """
          - name: %s
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
        .formatted(name, name, ip, port);
  }

  @BeforeAll
  static void start() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 64);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          // answers with the length and digest of the body it got
          long n = 0;
          MessageDigest sha = sha256();
          try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[64 * 1024];
            int r;
            while ((r = in.read(buf)) > 0) {
              sha.update(buf, 0, r);
              n += r;
            }
          }
          byte[] out =
              ("len=" + n + " sha=" + HexFormat.of().formatHex(sha.digest()))
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();

    authz = HttpServer.create(new InetSocketAddress(AUTHZ_IP, 0), 64);
    authz.setExecutor(executor);
    authz.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          gate.get().join(); // the check is in flight until the test lets it go
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    authz.start();

    heldPort = Ports.free(IP);
    bufferingPort = Ports.free(IP);
    String bs =
        "node: {id: buffer-limit-test, cluster: test}\nstatic_resources:\n  listeners:\n"
            + listener("held", heldPort, "")
            + listener(
                "buffering", bufferingPort, "with_request_body: {max_request_bytes: 4194304}\n")
            + "  clusters:\n"
            + cluster("backend", BACKEND_IP, backend.getAddress().getPort())
            + cluster("authz", AUTHZ_IP, authz.getAddress().getPort());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("buffer-limit.yaml", bs),
            ProxyOptions.defaults().withWorkers(1));
    client = new H2Client();
  }

  @AfterAll
  static void stop() throws Exception {
    gate.get().complete(null);
    proxy.close();
    client.close();
    backend.stop(0);
    authz.stop(0);
    executor.close();
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** The body: a pattern that differs from piece to piece, so a lost or swapped piece shows. */
  static byte[] piece(int i) {
    byte[] b = new byte[PIECE];
    for (int j = 0; j < b.length; j++) {
      b[j] = (byte) (i * 31 + j);
    }
    return b;
  }

  static String expected() {
    MessageDigest sha = sha256();
    for (int i = 0; i < BODY / PIECE; i++) {
      sha.update(piece(i));
    }
    return "len=" + BODY + " sha=" + HexFormat.of().formatHex(sha.digest());
  }

  static final String PAUSED = "http.held.downstream_flow_control_paused_reading_total";
  static final String RESUMED = "http.held.downstream_flow_control_resumed_reading_total";

  static long[] counters() {
    return new long[] {stat(PAUSED), stat(RESUMED)};
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  /**
   * While the check is held, the proxy pauses reading and the client's progress stops well short of
   * the body; then the check answers and the whole body arrives.
   */
  private void holdThenRelease(AtomicLong sent, Future<String> reply, long[] before, long bound)
      throws Exception {
    try {
      holdThenRelease0(sent, reply, before, bound);
    } finally {
      gate.get().complete(null); // a failed assertion leaves no check hanging
    }
  }

  private void holdThenRelease0(AtomicLong sent, Future<String> reply, long[] before, long bound)
      throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> stat(PAUSED) > before[0]);
    // the client stalls: no progress over a second, far below the body
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            new java.util.concurrent.Callable<Boolean>() {
              long last = -1;

              @Override
              public Boolean call() {
                long now = sent.get();
                boolean stalled = now == last;
                last = now;
                return stalled;
              }
            });
    assertThat(sent.get()).isLessThan(bound).isLessThan(BODY);
    assertThat(reply).isNotDone();
    gate.get().complete(null);
    assertThat(reply.get(120, TimeUnit.SECONDS)).endsWith(expected());
    assertThat(stat(RESUMED)).isGreaterThan(before[1]);
  }

  @Test
  void http11UploadIsNotReadPastTheLimitWhileTheCheckIsHeldAndArrivesWhole() throws Exception {
    gate.set(new CompletableFuture<>());
    long[] before = counters();
    AtomicLong sent = new AtomicLong();
    Future<String> reply =
        executor.submit(
            () -> {
              try (Socket s = new Socket()) {
                s.setSendBufferSize(64 * 1024);
                s.connect(new InetSocketAddress(IP, heldPort));
                s.setSoTimeout(120_000);
                OutputStream out = s.getOutputStream();
                out.write(
                    ("POST /upload HTTP/1.1\r\nhost: a.test\r\ncontent-length: "
                            + BODY
                            + "\r\nconnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < BODY / PIECE; i++) {
                  out.write(piece(i));
                  sent.addAndGet(PIECE);
                }
                out.flush();
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              }
            });
    // what the client got out: the proxy's limit and what the sockets' kernel buffers take
    holdThenRelease(sent, reply, before, 12L * 1024 * 1024);
    assertThat(reply.get()).startsWith("HTTP/1.1 200");
  }

  @Test
  void http2UploadGetsNoWindowPastTheLimitWhileTheCheckIsHeldAndArrivesWhole() throws Exception {
    gate.set(new CompletableFuture<>());
    long[] before = counters();
    AtomicLong sent = new AtomicLong();
    Channel conn = client.connect(IP, heldPort);
    try {
      CompletableFuture<String> answer = new CompletableFuture<>();
      Http2StreamChannel stream = H2Client.exchange(conn, answer);
      Future<String> reply =
          executor.submit(
              () -> {
                var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/up");
                head.headers().set("host", "a.test");
                stream.writeAndFlush(head).sync();
                for (int i = 0; i < BODY / PIECE; i++) {
                  // done once the frame is on the wire, which flow control allows
                  stream
                      .writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(piece(i))))
                      .sync();
                  sent.addAndGet(PIECE);
                }
                stream.writeAndFlush(new DefaultLastHttpContent()).sync();
                return answer.get(120, TimeUnit.SECONDS);
              });
      // what flow control let out: the proxy's limit, one stream window and a frame in flight
      holdThenRelease(sent, reply, before, LIMIT + 65_535 + 2 * PIECE);
      assertThat(reply.get()).startsWith("200 ");
    } finally {
      conn.close();
    }
  }

  @Test
  void aFilterBufferingMoreThanTheConnectionLimitGets413() throws Exception {
    gate.set(CompletableFuture.completedFuture(null));
    long tooLarge = stat("http.buffering.downstream_rq_too_large");
    Channel conn = client.connect(IP, bufferingPort);
    try {
      CompletableFuture<String> answer = new CompletableFuture<>();
      Http2StreamChannel stream = H2Client.exchange(conn, answer);
      var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/up");
      head.headers().set("host", "a.test");
      stream.writeAndFlush(head);
      // under the filter's 4 MiB but over the listener's 256 KiB
      for (int i = 0; i < (LIMIT + PIECE) / PIECE; i++) {
        stream.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(piece(i))));
      }
      stream.writeAndFlush(new DefaultLastHttpContent());
      assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo("413 Payload Too Large");
      assertThat(stat("http.buffering.downstream_rq_too_large")).isEqualTo(tooLarge + 1);
    } finally {
      conn.close();
    }
  }
}
