package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
  static Proxy proxy;
  static int port;
  static int h2OnlyPort;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.9.71");
    port = Ports.free(IP);
    h2OnlyPort = Ports.free(IP);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("h2bad.yaml", bootstrap(port, h2OnlyPort)),
            ProxyOptions.defaults().withWorkers(1));
  }

  static String bootstrap(int autoPort, int h2Port) {
    String listener =
        """
          - name: %s
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  codec_type: %s
                  http2_protocol_options: {max_concurrent_streams: 2}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}
        """;
    return "static_resources:\n  listeners:\n"
        + listener.formatted("auto", IP, autoPort, "auto", "AUTO")
        + listener.formatted("h2", IP, h2Port, "h2", "HTTP2")
        + """
          clusters:
          - name: a
            load_assignment:
              cluster_name: a
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(backend.ip(), backend.port());
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
    RawH2 good = new RawH2(IP, port).preface().handshake();
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
        RawH2 bad = new RawH2(IP, port).preface().handshake()) {
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
        RawH2 bad = new RawH2(IP, port).preface().handshake()) {
      assertThat(get(bad, 1, "/fine")).isEqualTo("200");
      bad.frames(
          (w, c) ->
              w.writeHeaders(
                  c,
                  3,
                  new DefaultHttp2Headers(false)
                      .method("GET")
                      .path("/x")
                      .scheme("http")
                      .authority("test")
                      .add(":bogus", "1"),
                  0,
                  true,
                  c.newPromise()));
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
        RawH2 c = new RawH2(IP, port).preface().handshake()) {
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
    String yaml = bootstrap(p, Ports.free(ip)).replace(IP, ip);
    Proxy draining =
        Proxy.start(
            new BootstrapLoader().parse("h2drain.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
    try (RawH2 c = new RawH2(ip, p).preface().handshake()) {
      assertThat(get(c, 1, "/one")).isEqualTo("200");
      c.get(3, "/slow", true); // in flight when the drain starts (the backend takes a second)
      // only once the proxy has it: on a loaded machine the drain could otherwise overtake the
      // HEADERS, and a GOAWAY naming stream 1 rightly refuses stream 3
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  draining.stats().all().stream()
                      .filter(x -> x.name().equals("http.auto.downstream_rq_total"))
                      .mapToLong(x -> x.value())
                      .sum(),
              n -> n >= 2);
      CompletableFuture<Void> drain =
          CompletableFuture.runAsync(() -> draining.drainAndClose(Duration.ofSeconds(10)));
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
