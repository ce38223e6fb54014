package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a remote peer can make the proxy log: nothing per frame, request or connection at INFO or
 * above (Envoy logs such events at debug or trace), however many it sends. Every record of every
 * logger that would be printed (the root handler's INFO) is captured while a client floods the
 * proxy with frames it ignores after its GOAWAY, frames on streams it refused, control frames it
 * cannot answer fast enough, and malformed HTTP/1.1, over real sockets; the proxy keeps serving.
 */
class PeerLogFloodTest {
  static final String IP = "127.0.92.1";

  static final List<String> printed = new CopyOnWriteArrayList<>();
  static final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          if (r.getLevel().intValue() >= Level.INFO.intValue()) {
            printed.add(
                r.getLevel()
                    + " "
                    + r.getLoggerName()
                    + ": "
                    + new java.util.logging.SimpleFormatter().formatMessage(r)
                    + (r.getThrown() == null ? "" : " " + r.getThrown()));
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  Backend backend;
  SocketProxy proxy;
  int port;
  int inspectPort;
  int tcpPort;

  @BeforeAll
  static void jul() {
    // the capture sees Netty's lines only if Netty logs through java.util.logging
    assertThat(InternalLoggerFactory.getDefaultFactory()).isInstanceOf(JdkLoggerFactory.class);
  }

  /** A TCP proxy listener to cluster a, behind {@code listenerFilters} and {@code match}. */
  static String tcpListener(String name, int port, String listenerFilters, String match) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
        %4$s
            filter_chains:
            - filter_chain_match: %5$s
              filters:
              - name: tcp
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: %1$s
                  cluster: a
        """
        .formatted(name, IP, port, listenerFilters.indent(4).stripTrailing(), match);
  }

  @BeforeEach
  void start() {
    backend = new Backend("a", "127.0.92.2");
    port = Ports.free(IP);
    inspectPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1).withDrainTime(Duration.ofSeconds(60)),
            true,
            List.of(
                SocketProxy.listener(
                    "flood",
                    IP,
                    port,
                    """
                    codec_type: AUTO
                    delayed_close_timeout: 0s
                    http2_protocol_options: {max_concurrent_streams: 2}""",
                    SocketProxy.to("/", "a")),
                tcpListener(
                    "inspect",
                    inspectPort,
                    """
                    listener_filters:
                    - name: envoy.filters.listener.tls_inspector
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}""",
                    "{transport_protocol: raw_buffer}"),
                tcpListener("tcp", tcpPort, "", "{}")),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
    printed.clear();
    Logger.getLogger("").addHandler(capture);
  }

  @AfterEach
  void stop() {
    Logger.getLogger("").removeHandler(capture);
    proxy.close();
    backend.close();
  }

  /** A GET through a fresh connection: the proxy still serves. */
  void servesStill() throws Exception {
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      var r =
          c.send(
              HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + "/still"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void framesAfterTheLastGoAwayAreDroppedQuietly() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      // an upload keeps the connection open across the drain
      c.frames(
          (w, x) -> w.writeHeaders(x, 1, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
      c.data(1, "first", false);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> proxy.stat("http.flood.downstream_rq_total") >= 1);
      proxy.drainListeners();
      // the notice, then (its PING answered by reading) the GOAWAY naming stream 1 as the last
      RawH2.Frame last;
      do {
        last = c.readUntil(RawH2.GOAWAY);
        assertThat(last).isNotNull();
      } while (last.lastStreamId() != 1);
      // streams past it: each HEADERS refused (RST_STREAM; Netty ends a connection that makes it
      // send over 200 in 30 s), and then DATA frames the codec drops
      for (int stream = 3; stream < 3 + 2 * 150; stream += 2) {
        int s = stream;
        c.frames(
            (w, x) ->
                w.writeHeaders(x, s, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
        c.data(s, "late", false);
        c.data(s, "later", false);
      }
      // stream 1 still finishes
      c.data(1, " second", true);
      RawH2.Frame f;
      StringBuilder body = new StringBuilder();
      while ((f = c.read()) != null) {
        if (f.type() == RawH2.DATA && f.stream() == 1) {
          body.append(new String(f.payload(), StandardCharsets.UTF_8));
          if (f.endStream()) {
            break;
          }
        }
      }
      assertThat(body.toString()).isEqualTo("first second");
    }
    assertThat(printed).as("log lines the flood caused").isEmpty();
  }

  @Test
  void framesOnRefusedStreamsAreDroppedQuietly() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      // streams 1 and 3 take the two slots; each later one is refused, and its DATA follows (each
      // answered with RST_STREAM too: 180 in all, under Netty's 200 in 30 s)
      c.frames(
          (w, x) -> w.writeHeaders(x, 1, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
      c.frames(
          (w, x) -> w.writeHeaders(x, 3, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
      for (int stream = 5; stream < 5 + 2 * 60; stream += 2) {
        int s = stream;
        c.frames(
            (w, x) ->
                w.writeHeaders(x, s, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
        c.data(s, "refused", false);
        c.data(s, "still refused", true);
      }
      c.data(1, "one", true);
      c.data(3, "three", true);
      int ended = 0;
      RawH2.Frame f;
      while (ended < 2 && (f = c.read()) != null) {
        if (f.type() == RawH2.DATA && f.endStream() && (f.stream() == 1 || f.stream() == 3)) {
          ended++;
        }
      }
      assertThat(ended).isEqualTo(2);
    }
    servesStill();
    assertThat(printed).as("log lines the flood caused").isEmpty();
  }

  @Test
  void aControlFrameFloodClosesItsConnectionsQuietly() throws Exception {
    for (int i = 0; i < 2; i++) {
      try (RawH2 c = proxy.h2(port)) {
        // PINGs whose answers the client never reads: once both sockets' buffers are full, the
        // proxy's answers pile up until Netty's limit of queued control frames (10,000) closes the
        // connection. Written from another thread, as a write blocks once the buffers are full.
        Thread flood =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        for (int n = 0; n < 4000; n++) {
                          c.frames(
                              (w, x) -> {
                                for (int k = 0; k < 500; k++) {
                                  w.writePing(x, false, k, x.newPromise());
                                }
                              });
                        }
                      } catch (java.io.IOException e) {
                        // closed by the proxy
                      }
                    });
        // a bound for a stuck flood, not a speed check: 2 M PINGs took 67 s at load 17 (5 s alone)
        assertThat(flood.join(Duration.ofSeconds(180))).as("the flood ended").isTrue();
        assertThat(c.closedByPeer()).isTrue();
      }
    }
    servesStill();
    assertThat(printed).as("log lines the flood caused").isEmpty();
  }

  @Test
  void malformedHttp1RequestsAreAnsweredQuietly() throws Exception {
    List<String> bad =
        List.of(
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "GET /\u0001 HTTP/1.1\r\nHost: a\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: " + "y".repeat(70_000) + "\r\n\r\n",
            "BREW / HTCPCP/1.0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
    for (int i = 0; i < 100; i++) {
      try (Socket s = new Socket(IP, port)) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(bad.get(i % bad.size()).getBytes(StandardCharsets.ISO_8859_1));
        String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(response).startsWith("HTTP/1.1 4");
      }
    }
    servesStill();
    assertThat(printed).as("log lines the flood caused").isEmpty();
  }

  @Test
  void connectionsResetMidwayAreClosedQuietly() throws Exception {
    List<String> partial =
        List.of(
            "GET / HT", // an HTTP/1.1 request line cut short
            "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nsome", // a body
            "PRI * HTTP/2.0\r\n", // the HTTP/2 preface cut short
            "");
    for (int i = 0; i < 40; i++) {
      for (int p : new int[] {port, inspectPort, tcpPort}) {
        try (Socket s = new Socket(IP, p)) {
          s.getOutputStream()
              .write(partial.get(i % partial.size()).getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          Thread.sleep(2);
          s.setSoLinger(true, 0); // the close resets the connection
        }
      }
    }
    // and HTTP/2 connections with a stream in flight
    for (int i = 0; i < 20; i++) {
      RawH2 c = proxy.h2(port);
      c.frames(
          (w, x) -> w.writeHeaders(x, 1, RawH2.request("POST", "/echo"), 0, false, x.newPromise()));
      c.socket().setSoLinger(true, 0);
      c.close();
    }
    Thread.sleep(500); // the proxy sees the resets
    servesStill();
    assertThat(printed).as("log lines the resets caused").isEmpty();
  }
}
