package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
 * A connection's request heads are made with room for what its last heads held at most (the decoded
 * headers and those added to them afterwards, as the proxy adds its own), over loopback through
 * {@link Http1ServerCodec}: the first head gets the fixed first guess, later ones the connection's
 * peak (capped), and a head with more headers than that room grows and keeps every header in order.
 */
class HeadSizingTest {
  private Loopback loopback;
  private Channel server;
  private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

  /** A decoded request's room when it reached the handler, and its headers in order. */
  record Seen(int capacity, List<Map.Entry<String, String>> headers) {}

  @BeforeEach
  void start() throws Exception {
    loopback = new Loopback();
    server =
        loopback.serve(
            ch -> {
              // every request read whole (one write each); a head split over reads is decoded
              // the same way once whole (decision 0037, addendum 16), this keeps it to one read
              ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(8192));
              ch.pipeline()
                  .addLast(
                      new Http1ServerCodec(
                          Http1Decoding.config(4096, 8192, 8192), Duration.ofHours(1)),
                      new Answer());
            });
  }

  @AfterEach
  void stop() {
    server.close().syncUninterruptibly();
    loopback.close();
  }

  /**
   * Records each request's room and headers, then adds the number of headers its {@code add} query
   * names (as the proxy adds its own before forwarding) and answers.
   */
  private final class Answer extends SimpleChannelInboundHandler<HttpObject> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (!(msg instanceof HttpRequest r)) {
        return;
      }
      int capacity = r.headers() instanceof ArrayHeaders a ? a.capacity() : -1;
      seen.add(new Seen(capacity, r.headers().entries()));
      int add = Integer.parseInt(r.uri().substring(r.uri().indexOf('=') + 1));
      for (int i = 0; i < add; i++) {
        r.headers().add("x-added-" + i, "v");
      }
      var resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
      ctx.writeAndFlush(resp);
    }
  }

  @Test
  void laterHeadsOfAConnectionStartWithRoomForWhatItsHeadsHeld() throws Exception {
    try (Socket s = Loopback.socket(server)) {
      Seen first = exchange(s, 3, 2); // 3 decoded, 2 added: 5 at most
      assertThat(first.capacity()).as("the first head: the fixed guess").isEqualTo(12);
      Seen second = exchange(s, 1, 0);
      assertThat(second.capacity()).as("room for the 5 the first head held").isEqualTo(5);
      Seen third = exchange(s, 8, 0); // more than the room: grows
      assertThat(third.headers()).hasSize(8);
      for (int i = 0; i < 8; i++) {
        assertThat(third.headers().get(i).getKey()).isEqualTo("x-h" + i);
        assertThat(third.headers().get(i).getValue()).isEqualTo("value-" + i);
      }
      Seen fourth = exchange(s, 1, 0);
      assertThat(fourth.capacity()).as("room for the 8 the third head held").isEqualTo(8);
    }
    try (Socket s = Loopback.socket(server)) {
      Seen big = exchange(s, 40, 0);
      assertThat(big.headers()).hasSize(40);
      Seen after = exchange(s, 1, 0);
      assertThat(after.capacity())
          .as("one big head raises the room only up to the cap")
          .isEqualTo(ArrayHeaders.Sizing.MAX_HINT);
    }
    try (Socket s = Loopback.socket(server)) {
      assertThat(exchange(s, 1, 0).capacity())
          .as("a new connection starts from the fixed guess")
          .isEqualTo(12);
    }
  }

  /**
   * Sends a request with {@code headers} headers asking for {@code add} more; its response read.
   */
  private Seen exchange(Socket s, int headers, int add) throws Exception {
    StringBuilder req = new StringBuilder("GET /?add=" + add + " HTTP/1.1\r\n");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < headers; i++) {
      lines.add("x-h" + i + ": value-" + i + "\r\n");
    }
    lines.forEach(req::append);
    req.append("\r\n");
    s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
    Seen x = seen.poll(30, TimeUnit.SECONDS);
    assertThat(x).as("the request reached the handler").isNotNull();
    readHead(s.getInputStream());
    return x;
  }

  private static void readHead(InputStream in) throws Exception {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      assertThat(b).as("the response head").isNotNegative();
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }
}
