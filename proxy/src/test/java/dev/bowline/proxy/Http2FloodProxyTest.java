package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.http2.Http2Settings;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One HTTP/2 client that floods or stalls a connection does not take the proxy from the others,
 * over real sockets: rapid reset (CVE-2023-44487: streams opened and reset at once, each costing an
 * upstream request) has its connection aborted after a bounded number of streams (Envoy's rule: 250
 * premature resets among the first 500 streams); a header block kept open with empty CONTINUATION
 * frames (the CVE-2024-27316 family; its size limit never ends it, as it does not grow) ends its
 * connection with GOAWAY ENHANCE_YOUR_CALM (Netty's limit on small CONTINUATION frames), while an
 * empty DATA frame here and there is fine; a client that reads nothing (stream windows of 0) holds
 * its upstream connections only until the stream idle timeout resets its streams. Meanwhile a
 * well-behaved client is served.
 */
class Http2FloodProxyTest {
  static final String IP = "127.0.93.1";
  static final int ENHANCE_YOUR_CALM = 11;

  static Backend backend;
  static BigBackend big;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backend = new Backend("a", "127.0.93.2");
    big = new BigBackend("127.0.93.3", 4 << 20);
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "flood",
                    IP,
                    port,
                    "codec_type: AUTO\nstream_idle_timeout: 1s",
                    SocketProxy.to("/big", "big"),
                    SocketProxy.to("/", "a"))),
            List.of(
                SocketProxy.cluster("a", backend.ip(), backend.port(), ""),
                SocketProxy.cluster("big", "127.0.93.3", big.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    big.close();
  }

  /** A GET on a fresh HTTP/1.1 connection: its status. */
  static int served(String path) throws Exception {
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      return c.send(
              HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    }
  }

  @Test
  void rapidResetEndsTheConnectionAfterABoundedNumberOfStreams() throws Exception {
    long upstream = proxy.stat("cluster.a.upstream_rq_total");
    long aborted = proxy.stat("http.flood.downstream_rq_too_many_premature_resets");
    int sent = 0;
    RawH2.Frame goAway;
    try (RawH2 c = proxy.h2(port)) {
      try {
        for (int stream = 1; stream < 2 * 1000; stream += 100) {
          int first = stream;
          c.frames(
              (w, x) -> {
                for (int s = first; s < first + 100; s += 2) {
                  w.writeHeaders(x, s, RawH2.request("GET", "/slow"), 0, true, x.newPromise());
                  w.writeRstStream(x, s, 8 /* CANCEL */, x.newPromise());
                }
              });
          sent += 50;
        }
      } catch (IOException e) {
        // the proxy closed the connection
      }
      goAway = c.readUntil(RawH2.GOAWAY);
    }
    // Envoy aborts the connection (ConnectionCloseType::Abort): it just closes, no GOAWAY
    assertThat(goAway).as("the connection closes without GOAWAY").isNull();
    assertThat(proxy.stat("http.flood.downstream_rq_too_many_premature_resets"))
        .isEqualTo(aborted + 1);
    // 250 premature resets end it: what a client costs the upstream is bounded
    long started = proxy.stat("cluster.a.upstream_rq_total") - upstream;
    assertThat(started).as("upstream requests of %d streams", sent).isLessThan(400);
    assertThat(served("/after")).isEqualTo(200);
  }

  @Test
  void aHeaderBlockKeptOpenWithEmptyContinuationsEndsTheConnection() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      // HEADERS of a GET (:method GET, :scheme http, :path /) without END_HEADERS, then empty
      // CONTINUATION frames, none ending the block: the block never grows, so its size limit
      // never ends it
      c.send(new byte[] {0, 0, 3, 1, 0x1, 0, 0, 0, 1, (byte) 0x82, (byte) 0x86, (byte) 0x84});
      byte[] batch = new byte[9 * 1000];
      for (int i = 0; i < 1000; i++) {
        batch[9 * i + 3] = RawH2.CONTINUATION;
        batch[9 * i + 8] = 1;
      }
      try {
        c.send(batch);
      } catch (IOException e) {
        // closed by the proxy already
      }
      RawH2.Frame goAway = c.readUntil(RawH2.GOAWAY);
      assertThat(goAway).as("the connection ends with GOAWAY").isNotNull();
      assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(served("/after")).isEqualTo(200);
  }

  @Test
  void headerBlocksAndBodiesWithAnEmptyFrameHereAndThereAreServed() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      // one empty DATA frame between others, and an empty DATA ending the body: Envoy's limit is
      // two empty frames in a row
      c.headers(1, RawH2.request("POST", "/echo"), false)
          .data(1, "a", false)
          .data(1, "", false)
          .data(1, "b", false)
          .data(1, "", true);
      List<RawH2.Frame> seen = new java.util.ArrayList<>();
      c.readUntil(seen, f -> RawH2.has(f, RawH2.DATA, 1) && f.getLast().endStream());
      assertThat(RawH2.body(seen, 1)).isEqualTo("ab");
    }
  }

  @Test
  void aClientThatReadsNothingHoldsItsUpstreamsOnlyUntilTheStreamIdleTimeout() throws Exception {
    int closedBefore = big.closed.get();
    try (RawH2 c = new RawH2(IP, port)) {
      // stream windows of 0: the proxy may send this client no DATA at all
      c.preface(new Http2Settings().initialWindowSize(0)).handshake();
      for (int s = 1; s <= 9; s += 2) {
        c.get(s, "/big", true);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> big.requests.get() >= 5);
      // the others are served meanwhile, from the same upstream cluster
      assertThat(served("/big")).isEqualTo(200);
      // each stalled stream is reset once idle for a second, and its upstream connection goes
      await().atMost(Duration.ofSeconds(30)).until(() -> big.closed.get() >= closedBefore + 5);
      List<RawH2.Frame> seen = new java.util.ArrayList<>();
      c.readUntil(seen, f -> f.stream().filter(x -> x.type() == RawH2.RST_STREAM).count() >= 5);
    }
  }

  /**
   * An HTTP/1.1 backend that answers every request with {@code size} bytes and counts requests and
   * closed connections.
   */
  static final class BigBackend implements AutoCloseable {
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    private final ServerSocket server;
    private final byte[] body;

    BigBackend(String ip, int size) throws IOException {
      server = new ServerSocket(0, 64, InetAddress.getByName(ip));
      body = new byte[size];
      Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          Thread.ofVirtual().start(() -> serve(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        while (true) {
          int last4 = 0;
          int c;
          while ((c = in.read()) >= 0 && last4 != 0x0d0a0d0a) {
            last4 = last4 << 8 | c;
            if (last4 == 0x0d0a0d0a) {
              break;
            }
          }
          if (c < 0) {
            return;
          }
          requests.incrementAndGet();
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(body);
          out.flush();
        }
      } catch (IOException e) {
        // the proxy closed the connection
      } finally {
        closed.incrementAndGet();
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
