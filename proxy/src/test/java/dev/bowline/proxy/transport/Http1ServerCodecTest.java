package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
 * {@link Http1ServerCodec} serving a raw HTTP/1.1 client over loopback: requests decode with shared
 * names and methods and {@link AsciiString} values, byte-exact; pipelined requests are answered in
 * order, a response to HEAD has no body, and requests outside the strict form (chunked bodies)
 * still decode through Netty's decoder.
 */
class Http1ServerCodecTest {
  private Loopback loopback;
  private Channel server;
  private final BlockingQueue<HttpObject> seen = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() throws Exception {
    loopback = new Loopback();
    server =
        loopback.serve(
            ch ->
                ch.pipeline()
                    .addLast(
                        new Http1ServerCodec(Http1Decoding.config(4096, 8192, 8192)), new Echo()));
  }

  @AfterEach
  void stop() {
    server.close().syncUninterruptibly();
    loopback.close();
  }

  /** Answers each request, once whole, with its method, target and body length as the body. */
  private final class Echo extends SimpleChannelInboundHandler<HttpObject> {
    private String line = "";
    private int bodyBytes;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest r) {
        line = r.method() + " " + r.uri();
        bodyBytes = 0;
        seen.add(r);
      }
      if (msg instanceof HttpContent c) {
        bodyBytes += c.content().readableBytes();
      }
      if (msg instanceof LastHttpContent) {
        byte[] body = (line + " " + bodyBytes).getBytes(StandardCharsets.US_ASCII);
        var resp =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        resp.headers().set(AsciiString.cached("x-echo"), AsciiString.cached("v1"));
        ctx.writeAndFlush(resp);
      }
    }
  }

  private String exchange(String requests, int responses) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      while (count(got.toString(StandardCharsets.ISO_8859_1), "HTTP/1.1 200 OK") < responses
          || !complete(got.toString(StandardCharsets.ISO_8859_1))) {
        int c = in.read();
        if (c < 0) {
          break;
        }
        got.write(c);
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }

  /** Whether the last response's head is in, and its whole body. */
  private static boolean complete(String s) {
    int head = s.lastIndexOf("HTTP/1.1 200 OK");
    int end = s.indexOf("\r\n\r\n", head);
    if (head < 0 || end < 0) {
      return false;
    }
    String h = s.substring(head, end);
    int cl = h.indexOf("content-length: ");
    int len = Integer.parseInt(h.substring(cl + 16).split("\r\n")[0]);
    return s.length() - (end + 4) >= len;
  }

  @Test
  void aStrictRequestHeadDecodesWithSharedNamesAndAsciiValues() throws Exception {
    String wire =
        exchange(
            "GET /a?b=c HTTP/1.1\r\nHost: svc:8080\r\nuser-agent: t/1\r\nX-Custom:  v w \t\r\n\r\n",
            1);
    assertThat(wire).endsWith("GET /a?b=c 0").contains("x-echo: v1\r\n");
    HttpRequest r = (HttpRequest) seen.poll(5, TimeUnit.SECONDS);
    assertThat(r.method()).isSameAs(HttpMethod.GET);
    assertThat(r.protocolVersion()).isSameAs(HttpVersion.HTTP_1_1);
    List<Map.Entry<CharSequence, CharSequence>> entries = new ArrayList<>();
    r.headers().iteratorCharSequence().forEachRemaining(entries::add);
    assertThat(entries)
        .extracting(e -> e.getKey().toString() + "=" + e.getValue())
        .containsExactly("Host=svc:8080", "user-agent=t/1", "X-Custom=v w");
    assertThat((Object) entries.get(1).getKey()).isSameAs(HttpHeaderNames.USER_AGENT);
    assertThat(entries.get(0).getKey()).isInstanceOf(AsciiString.class);
    assertThat(entries).allSatisfy(e -> assertThat(e.getValue()).isInstanceOf(AsciiString.class));
  }

  @Test
  void pipelinedRequestsWithBodiesAreAnsweredInOrderAndHeadGetsNoBody() throws Exception {
    String wire =
        exchange(
            "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                + "HEAD /two HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
            3);
    assertThat(wire.indexOf("POST /one 5")).isPositive();
    assertThat(wire).doesNotContain("HEAD /two"); // the response to HEAD has its head only
    assertThat(wire).endsWith("POST /three 7");
    assertThat(count(wire, "HTTP/1.1 200 OK")).isEqualTo(3);
    assertThat(((HttpRequest) seen.poll(5, TimeUnit.SECONDS)).uri()).isEqualTo("/one");
    assertThat(((HttpRequest) seen.poll(5, TimeUnit.SECONDS)).method()).isSameAs(HttpMethod.HEAD);
    HttpRequest chunked = (HttpRequest) seen.poll(5, TimeUnit.SECONDS);
    assertThat(chunked.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
  }

  @Test
  void withAnIdleTimeoutTheEventFollowsTheLastMessageOrWriteByThatLongAndReachesTheNextHandler()
      throws Exception {
    long timeoutMs = 1_000; // large beside the steps: a loaded machine
    java.util.concurrent.atomic.AtomicLong lastWrite = new java.util.concurrent.atomic.AtomicLong();
    Loopback.IdleEvents events =
        new Loopback.IdleEvents() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof LastHttpContent) {
              var r =
                  new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
              lastWrite.set(System.nanoTime());
              ctx.writeAndFlush(r);
            }
            super.channelRead(ctx, msg);
          }
        };
    Channel idleServer =
        loopback.serve(
            ch ->
                ch.pipeline()
                    .addLast(
                        new Http1ServerCodec(
                            Http1Decoding.config(4096, 8192, 8192),
                            java.time.Duration.ofMillis(timeoutMs)),
                        events));
    try (Socket s = new Socket()) {
      s.connect(idleServer.localAddress(), 5_000);
      s.setSoTimeout(10_000);
      long start = System.nanoTime();
      Thread.sleep(timeoutMs / 2);
      s.getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getInputStream().read(); // the response came
      long at = events.idleAt.get(10, TimeUnit.SECONDS);
      // not at start + timeout: the request and its response moved the deadline
      assertThat(TimeUnit.NANOSECONDS.toMillis(at - lastWrite.get()))
          .isGreaterThanOrEqualTo(timeoutMs - 50);
      assertThat(TimeUnit.NANOSECONDS.toMillis(at - start))
          .isGreaterThanOrEqualTo(timeoutMs * 3 / 2 - 50);
    } finally {
      idleServer.close().syncUninterruptibly();
    }
  }
}
