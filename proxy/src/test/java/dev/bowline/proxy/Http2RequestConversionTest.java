package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.RawH2.Frame;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an HTTP/2 request becomes on its way to an HTTP/1.1 upstream (decision 0042), over real
 * sockets: {@code :authority} is the upstream's {@code host}, cookie crumbs arrive as one {@code
 * cookie} header, {@code trailer} and the client's {@code x-http2-*} headers stay behind; and what
 * could smuggle a second request through the translation never reaches the upstream: control
 * characters in a value, names that are no lower-case tokens, a {@code :path} with a space each end
 * the connection with GOAWAY PROTOCOL_ERROR (Envoy's default for invalid messaging).
 */
class Http2RequestConversionTest {
  static final String IP = "127.0.9.160";
  static HttpServer backend;
  static final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static final AtomicInteger requests = new AtomicInteger();
  static final AtomicReference<Map<String, List<String>>> lastHeaders = new AtomicReference<>();
  static final AtomicReference<String> lastBody = new AtomicReference<>();
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() {
    try {
      backend = HttpServer.create(new InetSocketAddress("127.0.9.161", 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          lastBody.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          lastHeaders.set(Map.copyOf(ex.getRequestHeaders()));
          requests.incrementAndGet();
          byte[] out = "ok".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    backend.start();
    SocketProxy socket =
        SocketProxy.on(IP)
            .http("h2", "codec_type: HTTP2", SocketProxy.to("/", "a"))
            .cluster("a", "127.0.9.161", backend.getAddress().getPort())
            .start();
    proxy = socket.proxy;
    port = socket.port("h2");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.stop(0);
    executor.close();
  }

  private static Http2Headers request(String path) {
    return new DefaultHttp2Headers(false)
        .method("POST")
        .path(path)
        .scheme("http")
        .authority("svc.example:8080");
  }

  @Test
  void aRequestArrivesAsEnvoyTranslatesIt() throws Exception {
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
      Http2Headers h =
          request("/conv?q=1")
              .add("cookie", "a=1")
              .add("x-keep", "k")
              .add("cookie", "b=2")
              .add("te", "trailers")
              .add("trailer", "x-checksum")
              .add("x-http2-scheme", "https")
              .add("content-length", "5");
      c.frames(
          (w, ctx) -> {
            w.writeHeaders(ctx, 1, h, 0, false, ctx.newPromise());
            w.writeData(
                ctx,
                1,
                Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8),
                0,
                true,
                ctx.newPromise());
          });
      Frame f = c.readUntil(RawH2.HEADERS);
      assertThat(f).isNotNull();
      assertThat(f.headers().status().toString()).isEqualTo("200");
    }
    Map<String, List<String>> seen = lastHeaders.get();
    assertThat(seen.get("Host")).containsExactly("svc.example:8080");
    assertThat(seen.get("Cookie")).containsExactly("a=1; b=2");
    assertThat(seen.get("X-keep")).containsExactly("k");
    assertThat(seen.get("Content-length")).containsExactly("5");
    assertThat(seen).doesNotContainKeys("Trailer", "X-http2-scheme", "X-http2-stream-id");
    assertThat(lastBody.get()).isEqualTo("hello");
  }

  @Test
  void whatCouldSmuggleARequestNeverReachesTheUpstream() throws Exception {
    List<Http2Headers> bad =
        List.of(
            request("/cr").add("x-bad", "a\rb"),
            request("/lf").add("x-bad", "a\nGET /smuggled HTTP/1.1"),
            request("/nul").add("x-bad", "a\u0000b"),
            request("/upper").add("X-Bad", "v"),
            request("/space").add("x bad", "v"),
            request("/colon").add("x:bad", "v"),
            request("/a b"),
            request("/crlf\r\nGET /smuggled HTTP/1.1"));
    for (Http2Headers h : bad) {
      int before = requests.get();
      try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
        c.frames((w, ctx) -> w.writeHeaders(ctx, 1, h, 0, true, ctx.newPromise()));
        Frame f = c.readUntil(RawH2.GOAWAY);
        assertThat(f).as("GOAWAY for %s", h).isNotNull();
        assertThat(f.errorCode()).as("error code for %s", h).isEqualTo(RawH2.PROTOCOL_ERROR);
        assertThat(c.closedByPeer()).isTrue();
      }
      assertThat(requests.get()).as("requests upstream after %s", h).isEqualTo(before);
    }
    // and the listener still serves
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
      c.get(1, "/after", true);
      Frame f = c.readUntil(RawH2.HEADERS);
      assertThat(f).isNotNull();
      assertThat(f.headers().status().toString()).isEqualTo("200");
    }
  }
}
