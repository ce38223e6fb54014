package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A header block left half sent (HEADERS without END_HEADERS, the CONTINUATION never coming) holds
 * a buffer in Netty's frame reader; over real sockets, under Netty's paranoid leak detection, that
 * buffer is released however the connection ends: the client goes away (with or without another
 * stream open), the listener drains, or the proxy closes.
 */
class Http2HalfSentHeadersLeakTest {
  static final String IP = "127.0.76.21";
  static final String BACKEND_IP = "127.0.76.22";

  static ResourceLeakDetector.Level levelBefore;
  static final List<String> leaks = new CopyOnWriteArrayList<>();
  static final Logger leakLogger = Logger.getLogger(ResourceLeakDetector.class.getName());
  static final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          if (r.getMessage() != null && r.getMessage().contains("LEAK")) {
            leaks.add(r.getMessage() + " " + java.util.Arrays.toString(r.getParameters()));
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  /** How the connection with the half-sent block ends. */
  enum End {
    CLIENT_CLOSES,
    CLIENT_CLOSES_WITH_ANOTHER_STREAM_OPEN,
    LISTENER_DRAINS,
    PROXY_CLOSES
  }

  Backend backend;
  SocketProxy proxy;
  int port;

  @BeforeAll
  static void paranoid() {
    // the capture below sees the leak reports only if Netty logs through java.util.logging
    assertThat(InternalLoggerFactory.getDefaultFactory()).isInstanceOf(JdkLoggerFactory.class);
    levelBefore = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    leakLogger.addHandler(capture);
  }

  @AfterAll
  static void restore() {
    leakLogger.removeHandler(capture);
    ResourceLeakDetector.setLevel(levelBefore);
  }

  @BeforeEach
  void start() {
    backend = new Backend("a", BACKEND_IP);
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1).withDrainTime(Duration.ofSeconds(1)),
            true,
            List.of(
                SocketProxy.listener(
                    "h2", IP, port, "codec_type: HTTP2", SocketProxy.to("/", "a"))),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  /**
   * A HEADERS frame for {@code stream} without END_HEADERS: a literal header (not indexed) whose
   * value is {@code n} bytes, the block's first fragment; the CONTINUATION never follows.
   */
  static byte[] halfBlock(int stream, int n) {
    byte[] name = "x-half".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
    p.write(0x82); // :method GET
    p.write(0x86); // :scheme http
    p.write(0x84); // :path /
    p.write(0x00); // literal without indexing, new name
    p.write(name.length);
    p.writeBytes(name);
    p.write(0x7f); // value length n, 7-bit prefix integer
    int rest = n - 127;
    while (rest >= 128) {
      p.write((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    p.write(rest);
    p.writeBytes(new byte[n]);
    byte[] payload = p.toByteArray();
    byte[] f = new byte[9 + payload.length];
    f[0] = (byte) (payload.length >>> 16);
    f[1] = (byte) (payload.length >>> 8);
    f[2] = (byte) payload.length;
    f[3] = 1; // HEADERS
    f[4] = 0x1; // END_STREAM, no END_HEADERS
    f[5] = (byte) (stream >>> 24);
    f[6] = (byte) (stream >>> 16);
    f[7] = (byte) (stream >>> 8);
    f[8] = (byte) stream;
    System.arraycopy(payload, 0, f, 9, payload.length);
    return f;
  }

  @ParameterizedTest
  @EnumSource(End.class)
  void theHeaderBlockBufferIsReleased(End end) throws Exception {
    leaks.clear();
    RawH2 c = proxy.h2(port);
    try {
      long before = proxy.stat("http.h2.downstream_rq_total");
      if (end == End.CLIENT_CLOSES_WITH_ANOTHER_STREAM_OPEN) {
        c.frames(
            (w, x) ->
                w.writeHeaders(x, 1, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
        Awaitility.await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> proxy.stat("http.h2.downstream_rq_total") > before);
      }
      // a PING and the fragment in one write, so in one read: once the PING is answered, the
      // proxy has read the fragment too (a PING after it would be a protocol error)
      byte[] ping = {0, 0, 8, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42};
      byte[] half = halfBlock(3, 3000);
      byte[] both = java.util.Arrays.copyOf(ping, ping.length + half.length);
      System.arraycopy(half, 0, both, ping.length, half.length);
      c.send(both);
      c.awaitPingAck(42);
      switch (end) {
        case CLIENT_CLOSES, CLIENT_CLOSES_WITH_ANOTHER_STREAM_OPEN -> c.close();
        case LISTENER_DRAINS -> {
          proxy.drainListeners();
          assertThat(c.closedWithin(Duration.ofSeconds(10))).as("closed by the drain").isTrue();
        }
        case PROXY_CLOSES -> {
          proxy.close();
          assertThat(c.closedWithin(Duration.ofSeconds(10))).as("closed with the proxy").isTrue();
        }
      }
    } finally {
      c.close();
    }
    // let the proxy see the close, then collect: a buffer never released is reported when the
    // detector next tracks an allocation after its buffer was collected
    Thread.sleep(300);
    for (int i = 0; i < 10; i++) {
      System.gc();
      Thread.sleep(50);
      for (int j = 0; j < 100; j++) {
        ByteBufAllocator.DEFAULT.buffer(64).release();
      }
    }
    assertThat(leaks).isEmpty();
  }
}
