package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 protocol errors from a client get what Envoy sends (GOAWAY for connection errors,
 * RST_STREAM for a refused stream) and never disturb another connection to the same listener; a
 * draining proxy says GOAWAY and lets the streams in flight finish.
 */
class Http2BadInputTest {
  static final String IP = "127.0.9.70";
  static Backend backend;
  static SocketProxy proxy;
  static int port;
  static int h2OnlyPort;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.9.71");
    port = Ports.free(IP);
    h2OnlyPort = Ports.free(IP);
    proxy = proxyOn(IP, port, h2OnlyPort);
  }

  /** A proxy on {@code ip} with an AUTO and an HTTP2 listener, both at most 2 streams at once. */
  static SocketProxy proxyOn(String ip, int autoPort, int h2Port) {
    return SocketProxy.start(
        ip,
        List.of(listener("auto", ip, autoPort, "AUTO"), listener("h2", ip, h2Port, "HTTP2")),
        List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  static String listener(String name, String ip, int port, String codec) {
    return SocketProxy.listener(
        name,
        ip,
        port,
        "codec_type: " + codec + "\nhttp2_protocol_options: {max_concurrent_streams: 2}",
        SocketProxy.to("/", "a"));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /** GET {@code path} on {@code stream} and the response's status. */
  static String get(RawH2 c, int stream, String path) throws Exception {
    c.get(stream, path, true);
    Frame f = c.readUntil(RawH2.HEADERS);
    assertThat(f).as("response on stream %d", stream).isNotNull();
    assertThat(f.stream()).isEqualTo(stream);
    return f.headers().status().toString();
  }

  /** A well-behaved client on its own connection, opened before the bad one acts. */
  static RawH2 goodClient() throws Exception {
    RawH2 good = proxy.h2(port);
    assertThat(get(good, 1, "/before")).isEqualTo("200");
    return good;
  }

  static void assertStillServes(RawH2 good) throws Exception {
    assertThat(get(good, 3, "/after")).isEqualTo("200");
  }

  @Test
  void aCorruptPrefaceGetsGoAwayProtocolErrorAndClose() throws Exception {
    try (RawH2 good = goodClient();
        RawH2 bad = new RawH2(IP, h2OnlyPort)) {
      // the magic is right, but what follows is no SETTINGS frame
      bad.send(
          "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nhelloworldcauseanerror"
              .getBytes(StandardCharsets.US_ASCII));
      Frame f = bad.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(bad.closedByPeer()).isTrue();
      assertStillServes(good);
    }
  }

  @Test
  void http11OnAnHttp2OnlyListenerIsClosed() throws Exception {
    try (RawH2 good = goodClient();
        RawH2 bad = new RawH2(IP, h2OnlyPort)) {
      bad.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(bad.closedByPeer()).isTrue();
      assertStillServes(good);
    }
  }

  @Test
  void dataOnStreamZeroGetsGoAwayProtocolError() throws Exception {
    try (RawH2 good = goodClient();
        RawH2 bad = proxy.h2(port)) {
      // DATA must belong to a stream (RFC 9113 6.1); Netty's writer refuses to write this one
      bad.send(new byte[] {0, 0, 1, RawH2.DATA, 0, 0, 0, 0, 0, 'x'});
      Frame f = bad.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(bad.closedByPeer()).isTrue();
      assertStillServes(good);
    }
  }

  @Test
  void headersWithAnInvalidPseudoHeaderEndTheConnection() throws Exception {
    // Envoy's default (override_stream_error_on_invalid_http_message unset): the whole connection
    try (RawH2 good = goodClient();
        RawH2 bad = proxy.h2(port)) {
      assertThat(get(bad, 1, "/fine")).isEqualTo("200");
      bad.headers(3, RawH2.invalidRequest(), true);
      Frame f = bad.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isEqualTo(RawH2.PROTOCOL_ERROR);
      assertThat(bad.closedByPeer()).isTrue();
      assertStillServes(good);
    }
  }

  @Test
  void aStreamBeyondMaxConcurrentStreamsIsRefused() throws Exception {
    try (RawH2 good = goodClient();
        RawH2 c = proxy.h2(port)) {
      c.get(1, "/echo", false); // request bodies still to come: both streams stay open
      c.get(3, "/echo", false);
      c.get(5, "/echo", false);
      // the body the client sent before it read the refusal: dropped, the connection goes on
      c.frames(
          (w, x) ->
              w.writeData(x, 5, Unpooled.wrappedBuffer(new byte[100]), 0, true, x.newPromise()));
      Frame f = c.readUntil(RawH2.RST_STREAM);
      assertThat(f).isNotNull();
      assertThat(f.stream()).isEqualTo(5);
      assertThat(f.errorCode()).isEqualTo(RawH2.REFUSED_STREAM);
      assertStillServes(good);
      // the connection goes on: the open streams finish, then a new one fits
      c.frames((w, x) -> w.writeData(x, 1, Unpooled.EMPTY_BUFFER, 0, true, x.newPromise()));
      Frame r = c.readUntil(RawH2.HEADERS);
      assertThat(r.stream()).isEqualTo(1);
      assertThat(r.headers().status().toString()).isEqualTo("200");
      assertThat(get(c, 7, "/later")).isEqualTo("200");
    }
  }

  @Test
  void drainingSendsGoAwayAndLetsStreamsInFlightFinish() throws Exception {
    String ip = "127.0.9.72";
    int p = Ports.free(ip);
    SocketProxy draining = proxyOn(ip, p, Ports.free(ip));
    try (RawH2 c = draining.h2(p)) {
      assertThat(get(c, 1, "/one")).isEqualTo("200");
      c.get(3, "/slow", true); // in flight when the drain starts (the backend takes a second)
      // only once the proxy has it: on a loaded machine the drain could otherwise overtake the
      // HEADERS, and a GOAWAY naming stream 1 rightly refuses stream 3
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> draining.stat("http.auto.downstream_rq_total"), n -> n >= 2);
      CompletableFuture<Void> drain =
          CompletableFuture.runAsync(() -> draining.proxy.drainAndClose(Duration.ofSeconds(10)));
      Frame f = c.readUntil(RawH2.GOAWAY);
      assertThat(f).isNotNull();
      assertThat(f.errorCode()).isZero(); // NO_ERROR
      Frame r = c.readUntil(RawH2.HEADERS);
      assertThat(r).isNotNull();
      assertThat(r.stream()).isEqualTo(3);
      assertThat(r.headers().status().toString()).isEqualTo("200");
      assertThat(c.closedByPeer()).isTrue();
      drain.get();
    } finally {
      draining.close();
    }
  }
}
