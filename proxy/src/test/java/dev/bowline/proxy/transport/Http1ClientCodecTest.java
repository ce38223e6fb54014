package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1ClientCodec} against a raw HTTP/1.1 server over loopback: responses decode as with
 * Netty's client codec (the same names, values, statuses and bodies), a HEAD response has no body,
 * a 200 to CONNECT turns the connection into bytes, and common header names and status lines are
 * the shared constants, byte-exact.
 */
class Http1ClientCodecTest {
  private Loopback loopback;
  private ServerSocket server;

  @BeforeEach
  void start() throws Exception {
    loopback = new Loopback();
    server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    loopback.close();
  }

  /** Everything the client decoded: heads, contents (as text), raw bytes after a tunnel. */
  private record Seen(List<HttpResponse> heads, StringBuilder body, BlockingQueue<Object> events) {}

  /** Answers each request it reads (up to the blank line) with the next of {@code responses}. */
  private Thread serve(String... responses) {
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    for (String r : responses) {
                      readHead(in);
                      s.getOutputStream().write(r.getBytes(StandardCharsets.ISO_8859_1));
                      s.getOutputStream().flush();
                    }
                    in.read(); // hold the connection until the client closes it
                  } catch (Exception e) {
                    // the test fails on what it did not receive
                  }
                });
    return t;
  }

  private static void readHead(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      if (b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        return;
      }
    }
  }

  private Channel connect(Seen seen) throws Exception {
    return loopback.connect(
        server.getLocalSocketAddress(),
        ch ->
            ch.pipeline()
                .addLast(
                    new Http1ClientCodec(Http1Decoding.config(4096, 8192, 8192), true),
                    new SimpleChannelInboundHandler<Object>() {
                      @Override
                      protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof HttpResponse r) {
                          seen.heads().add(r);
                        }
                        if (msg instanceof HttpContent c) {
                          seen.body().append(c.content().toString(StandardCharsets.US_ASCII));
                        }
                        if (msg instanceof ByteBuf raw) {
                          seen.events().add(raw.toString(StandardCharsets.US_ASCII));
                        } else if (msg instanceof LastHttpContent) {
                          seen.events().add("end");
                        }
                      }
                    }));
  }

  private static DefaultFullHttpRequest request(HttpMethod method) {
    var r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/x");
    r.headers().set(HttpHeaderNames.HOST, "backend");
    return r;
  }

  @Test
  void commonNamesAndStatusLinesAreSharedConstantsWithTheBytesReceived() throws Exception {
    serve(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\ncontent-length: 2\r\n"
            + "ETag: \"a\"\r\nX-Custom: v\r\nCONTENT-language: en\r\n\r\nhi",
        "HTTP/1.1 404 Gone Away\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 299 Whatever\r\nContent-Length: 0\r\n\r\n");
    Seen seen = new Seen(new ArrayList<>(), new StringBuilder(), new LinkedBlockingQueue<>());
    Channel ch = connect(seen);
    for (int i = 0; i < 3; i++) {
      ch.writeAndFlush(request(HttpMethod.GET)).sync();
      assertThat(seen.events().poll(10, TimeUnit.SECONDS)).isEqualTo("end");
    }
    ch.close().sync();

    HttpResponse ok = seen.heads().get(0);
    assertThat(ok.status()).isSameAs(HttpResponseStatus.OK);
    assertThat(ok.protocolVersion()).isSameAs(HttpVersion.HTTP_1_1);
    assertThat(seen.body().toString()).isEqualTo("hi");
    List<Map.Entry<String, String>> entries = new ArrayList<>();
    ok.headers()
        .iteratorCharSequence()
        .forEachRemaining(
            e -> entries.add(Map.entry(e.getKey().toString(), e.getValue().toString())));
    assertThat(entries)
        .containsExactly(
            Map.entry("Server", "nginx"),
            Map.entry("Content-Type", "text/plain"),
            Map.entry("content-length", "2"),
            Map.entry("ETag", "\"a\""),
            Map.entry("X-Custom", "v"),
            Map.entry("CONTENT-language", "en"));
    // a head in the strict form is decoded in one pass: its values are bytes, copied whole later
    ok.headers()
        .iteratorCharSequence()
        .forEachRemaining(e -> assertThat(e.getValue()).isInstanceOf(AsciiString.class));
    List<CharSequence> names = new ArrayList<>();
    ok.headers().iteratorCharSequence().forEachRemaining(e -> names.add(e.getKey()));
    assertThat((Object) names.get(0))
        .isSameAs(Http1ClientCodec.ResponseNames.find(bytes("Server"), 0, 6));
    assertThat((Object) names.get(2)).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
    assertThat((Object) Http1ClientCodec.ResponseNames.find(bytes("X-Custom"), 0, 8)).isNull();
    assertThat((Object) Http1ClientCodec.ResponseNames.find(bytes("CONTENT-language"), 0, 16))
        .isNull();

    HttpResponse gone = seen.heads().get(1);
    assertThat(gone.status().code()).isEqualTo(404);
    assertThat(gone.status().reasonPhrase()).isEqualTo("Gone Away");
    HttpResponse odd = seen.heads().get(2);
    assertThat(odd.status().code()).isEqualTo(299);
    assertThat(odd.status().reasonPhrase()).isEqualTo("Whatever");
    assertThat(odd.protocolVersion()).isSameAs(HttpVersion.HTTP_1_0);
  }

  @Test
  void aHeadResponseHasNoBodyAndTheNextResponseDecodes() throws Exception {
    serve(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    Seen seen = new Seen(new ArrayList<>(), new StringBuilder(), new LinkedBlockingQueue<>());
    Channel ch = connect(seen);
    ch.writeAndFlush(request(HttpMethod.HEAD)).sync();
    assertThat(seen.events().poll(10, TimeUnit.SECONDS)).isEqualTo("end");
    assertThat(seen.body().toString()).isEmpty();
    ch.writeAndFlush(request(HttpMethod.GET)).sync();
    assertThat(seen.events().poll(10, TimeUnit.SECONDS)).isEqualTo("end");
    assertThat(seen.body().toString()).isEqualTo("hello");
    assertThat(seen.heads()).hasSize(2);
    ch.close().sync();
  }

  @Test
  void aConnectAnsweredWith200PassesTheRestAsBytes() throws Exception {
    serve("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 not http any more");
    Seen seen = new Seen(new ArrayList<>(), new StringBuilder(), new LinkedBlockingQueue<>());
    Channel ch = connect(seen);
    ch.writeAndFlush(request(HttpMethod.CONNECT)).sync();
    assertThat(seen.events().poll(10, TimeUnit.SECONDS)).isEqualTo("end");
    StringBuilder raw = new StringBuilder();
    while (raw.length() < "HTTP/1.1 not http any more".length()) {
      Object next = seen.events().poll(10, TimeUnit.SECONDS);
      assertThat(next).isInstanceOf(String.class);
      raw.append(next);
    }
    assertThat(raw.toString()).isEqualTo("HTTP/1.1 not http any more");
    assertThat(seen.heads()).hasSize(1);
    ch.close().sync();
  }

  @Test
  void withAnIdleTimeoutTheEventFollowsTheLastReadByThatLongAndReachesTheNextHandler()
      throws Exception {
    long timeoutMs = 1_000; // large beside the steps: a loaded machine
    serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    Loopback.IdleEvents events = new Loopback.IdleEvents();
    Channel ch =
        loopback.connect(
            server.getLocalSocketAddress(),
            c ->
                c.pipeline()
                    .addLast(
                        new Http1ClientCodec(
                            Http1Decoding.config(4096, 8192, 8192),
                            java.time.Duration.ofMillis(timeoutMs)),
                        events));
    long start = System.nanoTime();
    Thread.sleep(timeoutMs / 2);
    ch.writeAndFlush(request(HttpMethod.GET)).sync();
    long at = events.idleAt.get(10, TimeUnit.SECONDS);
    assertThat(events.lastReadAt).isPositive();
    // not at start + timeout: the request written and the response read moved the deadline
    assertThat(TimeUnit.NANOSECONDS.toMillis(at - events.lastReadAt))
        .isGreaterThanOrEqualTo(timeoutMs - 50);
    assertThat(TimeUnit.NANOSECONDS.toMillis(at - start))
        .isGreaterThanOrEqualTo(timeoutMs * 3 / 2 - 50);
    ch.close().sync();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
