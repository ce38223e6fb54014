package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LoopClock} on the HTTP/1 server codec over loopback: a read batch has one time, which
 * everything in it reads; the batch ends with the read's completion or the codec's removal, and a
 * write from a task after it (a timer's response) stamps the idle clock with a fresh time, never
 * the batch's.
 */
class LoopClockTest {
  private Loopback loopback;
  private Channel server;
  private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

  /** What the handler after the codec saw: in the read, after it, and in the answering task. */
  record Seen(
      boolean inBatch,
      long first,
      long second,
      boolean inBatchAfterRemoval,
      boolean inBatchInTask,
      long beforeWrite,
      long idleAfterWrite) {}

  @BeforeEach
  void start() throws Exception {
    loopback = new Loopback();
    server =
        loopback.serve(
            ch ->
                ch.pipeline()
                    .addLast(
                        new Http1ServerCodec(
                            Http1Decoding.config(4096, 8192, 8192), Duration.ofHours(1)),
                        new Answer()));
  }

  @AfterEach
  void stop() {
    server.close().syncUninterruptibly();
    loopback.close();
  }

  /**
   * Records the clock in the read; answers from a task run after the read completed (as a timer's
   * local reply would), or, for {@code /remove}, removes the codec inside the read first.
   */
  private final class Answer extends SimpleChannelInboundHandler<HttpObject> {
    private boolean inBatch;
    private long first;
    private long second;
    private boolean afterRemoval;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      LoopClock clock = LoopClock.current();
      if (msg instanceof HttpRequest r) {
        inBatch = clock.inBatch();
        first = clock.nanoTime();
        second = clock.nanoTime();
        afterRemoval = inBatch;
        if (r.uri().equals("/remove")) {
          Http1ServerCodec codec = ctx.pipeline().get(Http1ServerCodec.class);
          ctx.pipeline().remove(codec);
          afterRemoval = clock.inBatch();
          seen.add(new Seen(inBatch, first, second, afterRemoval, false, 0, 0));
          ctx.close();
          return;
        }
      }
      if (msg instanceof LastHttpContent) {
        ctx.executor()
            .execute(
                () -> {
                  Http1ServerCodec codec = ctx.pipeline().get(Http1ServerCodec.class);
                  boolean inTask = clock.inBatch();
                  long before = System.nanoTime();
                  byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
                  var resp =
                      new DefaultFullHttpResponse(
                          HttpVersion.HTTP_1_1,
                          HttpResponseStatus.OK,
                          Unpooled.wrappedBuffer(body));
                  resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                  ctx.writeAndFlush(resp);
                  IdleClock idle = java.util.Objects.requireNonNull(codec.idle);
                  seen.add(
                      new Seen(
                          inBatch,
                          first,
                          second,
                          afterRemoval,
                          inTask,
                          before,
                          idle.lastActivity()));
                });
      }
    }
  }

  @Test
  void aReadBatchHasOneTimeThatNoLaterWriteReuses() throws Exception {
    try (Socket s = Loopback.socket(server)) {
      Seen one = exchange(s, "/a");
      Seen two = exchange(s, "/b");
      for (Seen x : new Seen[] {one, two}) {
        assertThat(x.inBatch()).as("the codec's read opened a batch").isTrue();
        assertThat(x.second()).as("one time per batch").isEqualTo(x.first());
        assertThat(x.inBatchInTask()).as("the read's completion ended the batch").isFalse();
        assertThat(x.idleAfterWrite())
            .as("a write after the batch stamps the idle clock with its own time")
            .isGreaterThanOrEqualTo(x.beforeWrite());
        assertThat(x.beforeWrite()).isGreaterThan(x.first());
      }
      assertThat(two.first())
          .as("the next read's batch takes its own time")
          .isGreaterThan(one.first());
    }
  }

  @Test
  void theCodecRemovedInsideItsReadEndsTheBatch() throws Exception {
    try (Socket s = Loopback.socket(server)) {
      s.getOutputStream()
          .write("GET /remove HTTP/1.1\r\nhost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Seen x = seen.poll(30, TimeUnit.SECONDS);
      assertThat(x).isNotNull();
      assertThat(x.inBatch()).isTrue();
      assertThat(x.inBatchAfterRemoval()).as("removal ends the codec's batch").isFalse();
      // the loop's next task sees no batch either
      assertThat(
              server
                  .eventLoop()
                  .submit(() -> LoopClock.current().inBatch())
                  .get(30, TimeUnit.SECONDS))
          .isFalse();
    }
  }

  @Test
  void nestedBatchesKeepTheOuterTimeAndOnlyItsOwnerEndsIt() throws Exception {
    boolean[] states =
        server
            .eventLoop()
            .submit(
                () -> {
                  LoopClock c = LoopClock.current();
                  Object outer = new Object();
                  Object inner = new Object();
                  c.begin(outer);
                  long t = c.nanoTime();
                  c.begin(inner);
                  boolean same = c.nanoTime() == t;
                  c.end(inner);
                  boolean stillOpen = c.inBatch() && c.nanoTime() == t;
                  c.end(outer);
                  return new boolean[] {same, stillOpen, c.inBatch()};
                })
            .get(30, TimeUnit.SECONDS);
    assertThat(states).containsExactly(true, true, false);
  }

  private Seen exchange(Socket s, String path) throws Exception {
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nhost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    Seen x = seen.poll(30, TimeUnit.SECONDS);
    assertThat(x).as("answered " + path).isNotNull();
    InputStream in = s.getInputStream();
    StringBuilder got = new StringBuilder();
    while (!got.toString().endsWith("\r\n\r\nok")) {
      int c = in.read();
      assertThat(c).as("response to " + path).isNotNegative();
      got.append((char) c);
    }
    return x;
  }
}
