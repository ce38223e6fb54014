package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The timers of downstream HTTP/2 streams, which one task per connection keeps (decision 0042),
 * over real sockets: a stream without a frame either way for {@code stream_idle_timeout} gets 408
 * {@code stream timeout} while the other streams of its connection go on; DATA keeps a stream from
 * timing out although it lasts longer than the timeout; a route timeout answers 504 on its stream
 * only, also when a later stream of the connection has a later deadline.
 */
class Http2StreamTimersTest {
  static final String IP = "127.0.9.162";
  static Backend backend;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() {
    backend = new Backend("t", "127.0.9.163");
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "h2t",
                """
                codec_type: HTTP2
                stream_idle_timeout: 1.5s""",
                "{match: {prefix: /short}, route: {cluster: t, prefix_rewrite: /slow, timeout: 0.3s}}",
                "{match: {prefix: /}, route: {cluster: t, timeout: 20s}}")
            .cluster("t", backend.ip(), backend.port())
            .start();
    proxy = socket.proxy;
    port = socket.port("h2t");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  private static DefaultHttp2Headers post(String path) {
    return (DefaultHttp2Headers)
        new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("t");
  }

  /** Reads frames until each of {@code n} streams has its response head; their statuses. */
  private static Map<Integer, String> statuses(RawH2 c, int n) throws Exception {
    Map<Integer, String> seen = new HashMap<>();
    while (seen.size() < n) {
      Frame f = c.readUntil(RawH2.HEADERS);
      assertThat(f).as("response heads so far %s", seen).isNotNull();
      seen.put(f.stream(), f.headers().status().toString());
    }
    return seen;
  }

  @Test
  void anIdleStreamTimesOutWhileABusyOneOnTheSameConnectionGoesOn() throws Exception {
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
      long start = System.nanoTime();
      // stream 1: a request whose body never comes; stream 3: a body in pieces for ~2.4 s, longer
      // than the idle timeout, then its end
      c.frames((w, ctx) -> w.writeHeaders(ctx, 1, post("/echo/idle"), 0, false, ctx.newPromise()));
      c.frames((w, ctx) -> w.writeHeaders(ctx, 3, post("/echo/busy"), 0, false, ctx.newPromise()));
      for (int i = 0; i < 8; i++) {
        Thread.sleep(300);
        c.frames(
            (w, ctx) ->
                w.writeData(
                    ctx,
                    3,
                    Unpooled.copiedBuffer("x", StandardCharsets.UTF_8),
                    0,
                    false,
                    ctx.newPromise()));
      }
      c.frames(
          (w, ctx) ->
              w.writeData(
                  ctx,
                  3,
                  Unpooled.copiedBuffer("!", StandardCharsets.UTF_8),
                  0,
                  true,
                  ctx.newPromise()));
      Map<Integer, String> s = statuses(c, 2);
      assertThat(s).containsEntry(1, "408").containsEntry(3, "200");
      assertThat(System.nanoTime() - start)
          .as("the idle one waited its timeout")
          .isGreaterThan(1_500_000_000L);
    }
  }

  @Test
  void routeTimeoutsFireOnTheirOwnStreams() throws Exception {
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
      // stream 1 with a 20 s deadline first, then stream 3 with 0.3 s against a backend that takes
      // 1 s (less than the stream idle timeout): only stream 3 times out, stream 1 is answered
      c.frames((w, ctx) -> w.writeHeaders(ctx, 1, post("/slow/long"), 0, true, ctx.newPromise()));
      c.frames((w, ctx) -> w.writeHeaders(ctx, 3, post("/short"), 0, true, ctx.newPromise()));
      Map<Integer, String> s = statuses(c, 2);
      assertThat(s).containsEntry(1, "200").containsEntry(3, "504");
    }
  }
}
