package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.http2.Http2Settings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the proxy buffers for one HTTP/2 stream whose client stops reading, as Envoy bounds it: its
 * codec's per-stream send buffer has {@code per_connection_buffer_limit_bytes} as watermark, and
 * past it the upstream is read-disabled. Here the client announces the largest windows HTTP/2
 * allows (so flow control never stops the proxy) and then reads nothing: the proxy must still stop
 * reading its upstream, bounded by the connection's and stream's watermarks and the sockets'
 * buffers, not by the 128 MiB the backend would send.
 */
class Http2StreamBufferProxyTest {
  static final String IP = "127.0.86.1";
  static final int BODY = 128 << 20;

  static ScriptedBackend backend;
  static final AtomicLong written = new AtomicLong();
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backend =
        new ScriptedBackend(
            "127.0.86.2",
            (path, out) -> {
              ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: " + BODY + "\r\n\r\n");
              byte[] chunk = new byte[64 << 10];
              for (int sent = 0; sent < BODY; sent += chunk.length) {
                out.write(chunk);
                written.addAndGet(chunk.length);
              }
              out.flush();
              return true;
            });
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "big",
                    IP,
                    port,
                    "codec_type: HTTP2",
                    "{match: {prefix: /}, route: {cluster: b, timeout: 0s}}")),
            List.of(SocketProxy.cluster("b", backend.ip(), backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  @Test
  void aClientThatStopsReadingStopsTheUpstreamWhateverItsWindows() throws Exception {
    try (RawH2 c = new RawH2(IP, port)) {
      c.preface(new Http2Settings().initialWindowSize(Integer.MAX_VALUE))
          .frames(
              (w, ctx) -> w.writeWindowUpdate(ctx, 0, Integer.MAX_VALUE - 65_535, ctx.newPromise()))
          .handshake();
      c.get(1, "/big", true);
      // the client reads nothing more: wait until the backend can write no more (nothing written
      // for 1.5 s)
      long[] last = {-1};
      await()
          .pollInterval(Duration.ofMillis(1_500))
          .atMost(Duration.ofMinutes(2))
          .until(
              () -> {
                long now = written.get();
                boolean stopped = now == last[0];
                last[0] = now;
                return stopped;
              });
      // watermarks (1 MiB each side) plus four sockets' buffers, far below the 128 MiB body
      assertThat(written.get()).isLessThan(48L << 20);
    }
  }
}
