package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code http2_protocol_options.connection_keepalive}, as Envoy's HTTP/2
 * codec keeps it: a PING every {@code interval} (plus jitter), its payload the time in ms; a client
 * that does not answer one within {@code timeout} has its connection closed without GOAWAY, counted
 * in {@code http2.keepalive_timeout}; a client that answers keeps its connection and is served.
 */
class Http2KeepaliveProxyTest {
  static final String IP = "127.0.7.55";
  static NettyBackend h1;
  static SocketProxy proxy;
  static int keepPort; // HTTP2, connection_keepalive {interval: 1s, timeout: 1s}

  /** One frame read as it comes, nothing answered. */
  record Frame(int type, int flags, byte[] payload) {
    long ping() {
      return java.nio.ByteBuffer.wrap(payload).getLong();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.7.56");
    keepPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "keep",
                    IP,
                    keepPort,
                    """
                    codec_type: HTTP2
                    http2_protocol_options:
                      connection_keepalive: {interval: 1s, timeout: 1s, interval_jitter: {value: 10}}""",
                    SocketProxy.to("/", "h1"))),
            List.of(SocketProxy.cluster("h1", h1.ip(), h1.port(), "")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    h1.close();
  }

  /** The next frame, or null once the proxy closed (or reset) the connection. */
  static Frame next(DataInputStream in) throws IOException {
    try {
      int len = in.readUnsignedByte() << 16 | in.readUnsignedShort();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      in.readInt();
      byte[] payload = new byte[len];
      in.readFully(payload);
      return new Frame(type, flags, payload);
    } catch (EOFException | java.net.SocketException e) {
      return null;
    }
  }

  @Test
  void aClientThatDoesNotAnswerThePingIsClosedWithoutGoAway() throws Exception {
    long before = proxy.stat("http2.keepalive_timeout");
    try (RawH2 c = RawH2.open(IP, keepPort)) {
      c.socket().setSoTimeout(60_000);
      var in = new DataInputStream(c.socket().getInputStream());
      long opened = System.currentTimeMillis();
      List<Frame> after = new ArrayList<>();
      Frame ping = null;
      Frame f;
      while ((f = next(in)) != null) {
        if (ping != null) {
          after.add(f);
        } else if (f.type() == RawH2.PING && (f.flags() & 1) == 0) {
          ping = f; // not answered
        }
      }
      assertThat(ping).as("a PING before the close").isNotNull();
      // Envoy's payload: the time it was sent, in ms since the epoch
      assertThat(ping.ping()).isBetween(opened, System.currentTimeMillis());
      assertThat(after).as("frames after the PING").noneMatch(x -> x.type() == RawH2.GOAWAY);
    }
    assertThat(proxy.stat("http2.keepalive_timeout")).isEqualTo(before + 1);
  }

  @Test
  void aClientThatAnswersKeepsItsConnectionAndIsServed() throws Exception {
    long before = proxy.stat("http2.keepalive_timeout");
    try (RawH2 c = RawH2.open(IP, keepPort)) {
      c.socket().setSoTimeout(60_000);
      var in = new DataInputStream(c.socket().getInputStream());
      int pings = 0;
      while (pings < 3) {
        Frame f = next(in);
        assertThat(f).as("the connection is open after %d answered PINGs", pings).isNotNull();
        if (f.type() == RawH2.PING && (f.flags() & 1) == 0) {
          long data = f.ping();
          c.frames((w, ctx) -> w.writePing(ctx, true, data, ctx.newPromise()));
          pings++;
        }
      }
      c.get(1, "/kept", true);
      List<RawH2.Frame> frames =
          c.readUntil(
              new ArrayList<>(), s -> s.stream().anyMatch(x -> x.stream() == 1 && x.endStream()));
      RawH2.Frame head = frames.stream().filter(x -> x.type() == RawH2.HEADERS).findFirst().get();
      assertThat(head.headers().status()).hasToString("200");
    }
    assertThat(proxy.stat("http2.keepalive_timeout")).isEqualTo(before);
  }
}
