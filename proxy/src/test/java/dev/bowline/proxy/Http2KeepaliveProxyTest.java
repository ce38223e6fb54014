package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
  static int upPort; // HTTP1 to the HTTP/2 clusters below
  // a raw HTTP/2 upstream per cluster: up, connection_keepalive {interval: 1s, timeout: 1s};
  // quiet, {timeout: 1s, connection_idle_interval: 0.5s}
  static ServerSocket up;
  static ServerSocket quiet;

  /** One frame read as it comes, nothing answered. */
  record Frame(int type, int flags, int stream, byte[] payload) {
    long ping() {
      return java.nio.ByteBuffer.wrap(payload).getLong();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.7.56");
    keepPort = Ports.free(IP);
    upPort = Ports.free(IP);
    up = new ServerSocket(0, 8, InetAddress.getByName("127.0.7.57"));
    up.setSoTimeout(60_000);
    quiet = new ServerSocket(0, 8, InetAddress.getByName("127.0.7.58"));
    quiet.setSoTimeout(60_000);
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
                    SocketProxy.to("/", "h1")),
                SocketProxy.listener(
                    "toup",
                    IP,
                    upPort,
                    "codec_type: HTTP1",
                    "{match: {prefix: /quiet}, route: {cluster: quiet, timeout: 0s}}",
                    "{match: {prefix: /}, route: {cluster: up, timeout: 0s}}")),
            List.of(
                SocketProxy.cluster("h1", h1.ip(), h1.port(), ""),
                SocketProxy.cluster(
                    "up",
                    "127.0.7.57",
                    up.getLocalPort(),
                    SocketProxy.httpProtocolOptions(
                        """
                        explicit_http_config:
                          http2_protocol_options:
                            connection_keepalive: {interval: 1s, timeout: 1s}""")),
                SocketProxy.cluster(
                    "quiet",
                    "127.0.7.58",
                    quiet.getLocalPort(),
                    SocketProxy.httpProtocolOptions(
                        """
                        explicit_http_config:
                          http2_protocol_options:
                            connection_keepalive: {timeout: 1s, connection_idle_interval: 0.5s}"""))));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    up.close();
    quiet.close();
    h1.close();
  }

  /** The next frame, or null once the proxy closed (or reset) the connection. */
  static Frame next(DataInputStream in) throws IOException {
    try {
      int len = in.readUnsignedByte() << 16 | in.readUnsignedShort();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int stream = in.readInt() & 0x7fffffff;
      byte[] payload = new byte[len];
      in.readFully(payload);
      return new Frame(type, flags, stream, payload);
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

  /** Sends {@code GET path} through the HTTP/1 listener to the HTTP/2 clusters. */
  static Socket request(String path) throws IOException {
    Socket s = new Socket(IP, upPort);
    s.setSoTimeout(60_000);
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /**
   * The frames the proxy sends to upstream {@code c} until {@code until} holds of the last (a
   * SETTINGS acknowledged, no PING answered); null at the end if the proxy closed it first.
   */
  static Frame upstreamUntil(RawH2 c, java.util.function.Predicate<Frame> until, List<Frame> seen)
      throws IOException {
    var in = new DataInputStream(c.socket().getInputStream());
    Frame f;
    while ((f = next(in)) != null) {
      seen.add(f);
      if (f.type() == RawH2.SETTINGS && (f.flags() & 1) == 0) {
        c.frames((w, ctx) -> w.writeSettingsAck(ctx, ctx.newPromise()));
      }
      if (until.test(f)) {
        return f;
      }
    }
    return null;
  }

  @Test
  void anUpstreamThatDoesNotAnswerThePingIsClosedWithoutGoAway() throws Exception {
    long before = proxy.stat("cluster.up.http2.keepalive_timeout");
    try (Socket client = request("/held");
        RawH2 c = RawH2.accept(up)) {
      c.socket().setSoTimeout(60_000);
      List<Frame> seen = new ArrayList<>();
      Frame ping = upstreamUntil(c, f -> f.type() == RawH2.PING && (f.flags() & 1) == 0, seen);
      assertThat(ping).as("a PING before the close; frames: %s", seen).isNotNull();
      List<Frame> after = new ArrayList<>();
      assertThat(upstreamUntil(c, f -> false, after)).isNull(); // read to the close
      assertThat(after).as("frames after the PING").noneMatch(x -> x.type() == RawH2.GOAWAY);
      assertThat(seen).anyMatch(x -> x.type() == RawH2.HEADERS); // the request, left unanswered
      InputStream in = client.getInputStream();
      assertThat(SocketProxy.response(in)).startsWith("HTTP/1.1 503");
    }
    assertThat(proxy.stat("cluster.up.http2.keepalive_timeout")).isEqualTo(before + 1);
  }

  /**
   * {@code connection_idle_interval}, as Envoy's client codec: a stream on a connection that
   * received nothing for that long is preceded by a PING; its ACK keeps the connection.
   */
  @Test
  void aStreamOnAQuietUpstreamConnectionIsPrecededByAPing() throws Exception {
    long before = proxy.stat("cluster.quiet.http2.keepalive_timeout");
    try (Socket first = request("/quiet/1");
        RawH2 c = RawH2.accept(quiet)) {
      c.socket().setSoTimeout(60_000);
      List<Frame> seen = new ArrayList<>();
      Frame one = upstreamUntil(c, f -> f.type() == RawH2.HEADERS, seen);
      assertThat(one).isNotNull();
      // the first stream: the connection is new, no PING before it
      assertThat(seen).noneMatch(x -> x.type() == RawH2.PING);
      c.headers(
          one.stream(),
          new io.netty.handler.codec.http2.DefaultHttp2Headers()
              .status("200")
              .add("content-length", "0"),
          true);
      assertThat(SocketProxy.response(first.getInputStream())).startsWith("HTTP/1.1 200");
      // quiet for longer than connection_idle_interval (0.5 s): a wait for time to pass
      long quietSince = System.nanoTime();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(() -> System.nanoTime() - quietSince > 1_000_000_000L);
      try (Socket second = request("/quiet/2")) {
        List<Frame> next = new ArrayList<>();
        Frame ping = upstreamUntil(c, f -> f.type() == RawH2.PING && (f.flags() & 1) == 0, next);
        assertThat(ping).as("a PING before the stream; frames: %s", next).isNotNull();
        assertThat(next).noneMatch(x -> x.type() == RawH2.HEADERS); // it comes before the stream
        long data = ping.ping();
        c.frames((w, ctx) -> w.writePing(ctx, true, data, ctx.newPromise()));
        Frame two = upstreamUntil(c, f -> f.type() == RawH2.HEADERS, next);
        assertThat(two).isNotNull();
        c.headers(
            two.stream(),
            new io.netty.handler.codec.http2.DefaultHttp2Headers()
                .status("200")
                .add("content-length", "0"),
            true);
        assertThat(SocketProxy.response(second.getInputStream())).startsWith("HTTP/1.1 200");
      }
    }
    assertThat(proxy.stat("cluster.quiet.http2.keepalive_timeout")).isEqualTo(before);
  }
}
