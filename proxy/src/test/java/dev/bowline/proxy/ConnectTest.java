package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CONNECT termination (Envoy's {@code upgrade_configs: [{upgrade_type: CONNECT}]} on the connection
 * manager, {@code connect_matcher} routes with {@code connect_config}): the proxy opens a TCP
 * connection to the route's cluster, answers 200 and relays the tunnel's bytes. Real sockets: a raw
 * client, curl as an HTTP proxy client, a TCP echo server and an HTTP backend.
 */
class ConnectTest {
  static final String IP = "127.0.6.70";
  static ServerSocket echo;
  // accepts, reads one byte, then resets the connection (RST: SO_LINGER 0)
  static ServerSocket resetter;
  // nothing listens there
  static int downPort;
  static Backend web;
  static Proxy proxy;
  static int port;
  static int closedPort;
  // both listeners' access log: authority, protocol, code, flags, bytes in and out, duration
  static java.nio.file.Path log;

  static String routes() {
    return """
                    virtual_hosts:
                    - name: echo
                      domains: ["echo.test:7"]
                      routes:
                      - match: {connect_matcher: {}}
                        route: {cluster: echo, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
                    - name: held
                      domains: ["abort.test:7", "rst.test:7", "gone.test:7"]
                      routes:
                      - match: {connect_matcher: {}}
                        route: {cluster: echo, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
                    - name: web
                      domains: ["web.test:80"]
                      routes:
                      - match: {connect_matcher: {}}
                        route: {cluster: web, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
                    - name: reset
                      domains: ["reset.test:9"]
                      routes:
                      - match: {connect_matcher: {}}
                        route: {cluster: resetter, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
                    - name: down
                      domains: ["down.test:9"]
                      routes:
                      - match: {connect_matcher: {}}
                        route: {cluster: down, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
                    - name: other
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: plain}}
        """;
  }

  static String listener(String name, int port, String upgrades) {
    return """
          - name: %s
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  %s
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %s
                      log_format: {text_format_source: {inline_string: "%%REQ(:AUTHORITY)%% %%PROTOCOL%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%% %%BYTES_RECEIVED%% %%BYTES_SENT%% %%DURATION%%\\n"}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
        %s"""
        .formatted(name, IP, port, name, upgrades, log, routes());
  }

  static String clusters(int echoPort, Backend web) {
    return """
          clusters:
          - name: echo
            load_assignment:
              cluster_name: echo
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.6.71, port_value: %d}}}}]}]
          - name: web
            load_assignment:
              cluster_name: web
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
          - name: resetter
            load_assignment:
              cluster_name: resetter
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.6.73, port_value: %d}}}}]}]
          - name: down
            load_assignment:
              cluster_name: down
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.6.74, port_value: %d}}}}]}]
        """
        .formatted(echoPort, web.ip(), web.port(), resetter.getLocalPort(), downPort);
  }

  @BeforeAll
  static void start() throws Exception {
    echo = new ServerSocket(0, 50, InetAddress.getByName("127.0.6.71"));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                            } catch (IOException e) {
                              // the peer went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    resetter = new ServerSocket(0, 50, InetAddress.getByName("127.0.6.73"));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!resetter.isClosed()) {
                try {
                  Socket s = resetter.accept();
                  s.getInputStream().read();
                  s.setSoLinger(true, 0);
                  s.close();
                } catch (IOException e) {
                  // closed
                }
              }
            });
    log = java.nio.file.Files.createTempDirectory("connect").resolve("access.log");
    downPort = Ports.free("127.0.6.74");
    web = new Backend("web", "127.0.6.72");
    port = Ports.free(IP);
    closedPort = Ports.free(IP);
    String yaml =
        "static_resources:\n  listeners:\n"
            + listener("connect", port, "upgrade_configs: [{upgrade_type: CONNECT}]")
            + listener("noconnect", closedPort, "")
            + clusters(echo.getLocalPort(), web);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("connect.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    echo.close();
    resetter.close();
    web.close();
  }

  static String head(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      sb.append((char) c);
    }
    return sb.toString();
  }

  static void send(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  static long stat(String name) {
    return SocketProxy.stat(proxy, name);
  }

  @Test
  void aConnectTunnelRelaysBytesBothWaysToTheRouteCluster() throws Exception {
    long early = stat("http.connect.downstream_rq_response_before_rq_complete");
    long ok = stat("http.connect.downstream_rq_2xx");
    long echoed = stat("cluster.echo.upstream_cx_total");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      send(s.getOutputStream(), "CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n");
      String head = head(s.getInputStream());
      assertThat(head)
          .startsWith("HTTP/1.1 200 OK\r\n")
          .doesNotContainIgnoringCase("content-length");
      long established = System.nanoTime();
      int payload = 0;
      // not HTTP any more: arbitrary bytes, several round trips, in both directions
      for (String msg : new String[] {"hello\n", "GET / HTTP/1.1\r\n\r\n", "\u0000\u0001binary"}) {
        send(s.getOutputStream(), msg);
        byte[] back = s.getInputStream().readNBytes(msg.length());
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo(msg);
        payload += msg.length();
      }
      long open = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - established);
      // the client finishing ends the tunnel: the proxy closes the connection and the upstream
      s.shutdownOutput();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      // Envoy logs the stream at the tunnel's end: the payload each way (not the heads), a
      // duration that holds the whole time the tunnel was open (on the proxy's own clock, which
      // started before the 200 and stopped after the client's FIN), and DC: its connection
      // manager does not half-close an HTTP/1.1 connection, so the client's FIN is the
      // connection's remote close, whose open stream is logged DownstreamConnectionTermination
      loggedLasting("echo.test:7 HTTP/1.1 200 DC %d %d ".formatted(payload, payload), open);
    }
    assertThat(stat("cluster.echo.upstream_cx_total")).isEqualTo(echoed + 1);
    assertThat(stat("http.connect.downstream_rq_2xx")).isEqualTo(ok + 1);
    // Envoy's codec never sees a CONNECT request end: its 200 comes before the request completed
    assertThat(stat("http.connect.downstream_rq_response_before_rq_complete")).isEqualTo(early + 1);
  }

  /** CONNECT to {@code authority} on stream 1 of {@code c}: its frames until RST_STREAM. */
  static List<RawH2.Frame> connectUntilReset(RawH2 c, String authority, String payload)
      throws IOException {
    c.headers(
        1,
        new io.netty.handler.codec.http2.DefaultHttp2Headers()
            .method("CONNECT")
            .authority(authority),
        false);
    if (payload != null) {
      c.data(1, payload, false);
    }
    List<RawH2.Frame> seen = new ArrayList<>();
    RawH2.Frame f;
    while ((f = c.read()) != null) {
      seen.add(f);
      if (f.type() == RawH2.RST_STREAM && f.stream() == 1) {
        break;
      }
    }
    return seen;
  }

  @Test
  void anHttp2ConnectWhoseUpstreamConnectFailsIs503ThenConnectError() throws Exception {
    // Envoy: the router's local reply (503 UF), then doEndStream resets the stream, whose request
    // did not end, with ConnectError: RST_STREAM CONNECT_ERROR (RFC 9113 8.5)
    try (RawH2 c = RawH2.open(IP, port)) {
      var seen = connectUntilReset(c, "down.test:9", null);
      assertThat(seen.getFirst().type()).isEqualTo(RawH2.HEADERS);
      assertThat(seen.getFirst().headers().status().toString()).isEqualTo("503");
      assertThat(seen.getLast().type()).isEqualTo(RawH2.RST_STREAM);
      assertThat(seen.getLast().errorCode())
          .isEqualTo(io.netty.handler.codec.http2.Http2Error.CONNECT_ERROR.code());
    }
  }

  @Test
  void anHttp2ConnectTunnelWhoseUpstreamResetsEndsWithConnectError() throws Exception {
    // the tunnel is up (200); the upstream's RST (not a FIN) resets the stream with CONNECT_ERROR
    try (RawH2 c = RawH2.open(IP, port)) {
      var seen = connectUntilReset(c, "reset.test:9", "x");
      assertThat(seen.getFirst().headers().status().toString()).isEqualTo("200");
      assertThat(seen.getLast().type()).isEqualTo(RawH2.RST_STREAM);
      assertThat(seen.getLast().errorCode())
          .isEqualTo(io.netty.handler.codec.http2.Http2Error.CONNECT_ERROR.code());
      assertThat(seen)
          .as("no END_STREAM before the reset")
          .noneMatch(f -> f.stream() == 1 && f.endStream());
    }
    // logged at the tunnel's end, not at its 200: UC, the one byte sent up, nothing back
    logged("reset.test:9 HTTP/2 200 UC 1 0 ");
  }

  /** Waits for an access-log line equal to {@code expected}. */
  static void logged(String expected) {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(java.nio.file.Files.readAllLines(log))
                    .anySatisfy(l -> assertThat(l).startsWith(expected)));
  }

  @Test
  void anHttp1ConnectTunnelWhoseUpstreamResetsIsLoggedAtItsEndWithUc() throws Exception {
    // Envoy's TCP upstream resets the stream with ConnectionTermination: UC, logged at the end,
    // with the byte the client sent and none back; the downstream connection closes
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      send(s.getOutputStream(), "CONNECT reset.test:9 HTTP/1.1\r\nHost: reset.test:9\r\n\r\n");
      assertThat(head(s.getInputStream())).startsWith("HTTP/1.1 200 OK\r\n");
      send(s.getOutputStream(), "x");
      try {
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      } catch (java.net.SocketException reset) {
        // the proxy's close may come as a reset: the tunnel ended either way
      }
    }
    logged("reset.test:9 HTTP/1.1 200 UC 1 0 ");
  }

  /**
   * Waits for an access-log line {@code prefix} followed by a duration of at least {@code
   * atLeastMs}: the proxy's clock started before the 200 and stopped after the tunnel's end.
   */
  static void loggedLasting(String prefix, long atLeastMs) {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(java.nio.file.Files.readAllLines(log))
                    .anySatisfy(
                        l ->
                            assertThat(l)
                                .startsWith(prefix)
                                .satisfies(
                                    x ->
                                        assertThat(Long.parseLong(x.substring(prefix.length())))
                                            .isGreaterThanOrEqualTo(atLeastMs))));
  }

  @Test
  void anHttp1ConnectTunnelTheClientResetsIsLoggedAtItsEndWithDc() throws Exception {
    // Envoy's connection manager resets the streams of a downstream connection that closed and
    // marks them DownstreamConnectionTermination: DC, with the bytes relayed until then
    long resets = stat("http.connect.downstream_rq_rx_reset");
    long open;
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      send(s.getOutputStream(), "CONNECT abort.test:7 HTTP/1.1\r\nHost: abort.test:7\r\n\r\n");
      assertThat(head(s.getInputStream())).startsWith("HTTP/1.1 200 OK\r\n");
      long established = System.nanoTime();
      send(s.getOutputStream(), "hello");
      assertThat(new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
          .isEqualTo("hello");
      open = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - established);
      s.setSoLinger(true, 0); // the close is a reset (RST), not a FIN
    }
    loggedLasting("abort.test:7 HTTP/1.1 200 DC 5 5 ", open);
    assertThat(stat("http.connect.downstream_rq_rx_reset")).isEqualTo(resets + 1);
  }

  /**
   * CONNECT to {@code authority} on stream 1 of {@code c}, {@code payload} echoed back; returns
   * {@link System#nanoTime} when the 200 came.
   */
  static long echoedTunnel(RawH2 c, String authority, String payload) throws IOException {
    c.headers(
        1,
        new io.netty.handler.codec.http2.DefaultHttp2Headers()
            .method("CONNECT")
            .authority(authority),
        false);
    RawH2.Frame head = c.readUntil(RawH2.HEADERS);
    assertThat(head.headers().status().toString()).isEqualTo("200");
    long established = System.nanoTime();
    c.data(1, payload, false);
    StringBuilder back = new StringBuilder();
    while (back.length() < payload.length()) {
      RawH2.Frame f = c.readUntil(RawH2.DATA);
      assertThat(f.endStream()).isFalse();
      back.append(new String(f.payload(), StandardCharsets.US_ASCII));
    }
    assertThat(back.toString()).isEqualTo(payload);
    return established;
  }

  @Test
  void anHttp2ConnectStreamTheClientResetsIsLoggedAtItsEndWithDr() throws Exception {
    // the client's RST_STREAM: Envoy's codec reports a remote reset, its connection manager logs
    // DownstreamRemoteReset (DR); the connection goes on
    long resets = stat("http.connect.downstream_rq_rx_reset");
    long open;
    try (RawH2 c = RawH2.open(IP, port)) {
      long started = echoedTunnel(c, "rst.test:7", "ping");
      open = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      c.frames((w, x) -> w.writeRstStream(x, 1, 8 /* CANCEL */, x.newPromise()));
      loggedLasting("rst.test:7 HTTP/2 200 DR 4 4 ", open);
      // the connection goes on: a request on another stream is answered
      c.headers(3, RawH2.request("GET", "/").authority("other.test"), true);
      RawH2.Frame body;
      while ((body = c.readUntil(RawH2.DATA)) != null && body.stream() != 3) {
        // frames of stream 1 that were on their way
      }
      assertThat(body).isNotNull();
      assertThat(body.text()).isEqualTo("plain");
    }
    assertThat(stat("http.connect.downstream_rq_rx_reset")).isEqualTo(resets + 1);
  }

  @Test
  void anHttp2ConnectStreamWhoseConnectionClosesIsLoggedAtItsEndWithDc() throws Exception {
    // the connection under the stream goes away: DownstreamConnectionTermination, as over HTTP/1.1
    long open;
    try (RawH2 c = RawH2.open(IP, port)) {
      long started = echoedTunnel(c, "gone.test:7", "bytes");
      open = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    }
    loggedLasting("gone.test:7 HTTP/2 200 DC 5 5 ", open);
  }

  @Test
  void anHttp2ConnectStreamIsATunnel() throws Exception {
    var group =
        new io.netty.channel.MultiThreadIoEventLoopGroup(
            1, io.netty.channel.nio.NioIoHandler.newFactory());
    try {
      io.netty.channel.Channel conn =
          new io.netty.bootstrap.Bootstrap()
              .group(group)
              .channel(io.netty.channel.socket.nio.NioSocketChannel.class)
              .handler(
                  new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                      ch.pipeline()
                          .addLast(
                              io.netty.handler.codec.http2.Http2FrameCodecBuilder.forClient()
                                  .build(),
                              new io.netty.handler.codec.http2.Http2MultiplexHandler(
                                  new io.netty.channel.ChannelInboundHandlerAdapter()));
                    }
                  })
              .connect(IP, port)
              .sync()
              .channel();
      var frames = new java.util.concurrent.LinkedBlockingQueue<Object>();
      var stream =
          new io.netty.handler.codec.http2.Http2StreamChannelBootstrap(conn)
              .handler(
                  new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(
                        io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                      if (msg instanceof io.netty.handler.codec.http2.Http2DataFrame d) {
                        frames.add(
                            (d.isEndStream() ? "END:" : "")
                                + d.content().toString(StandardCharsets.US_ASCII));
                      } else if (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame h) {
                        frames.add(h.headers().status().toString());
                      }
                      io.netty.util.ReferenceCountUtil.release(msg);
                    }
                  })
              .open()
              .sync()
              .getNow();
      var headers =
          new io.netty.handler.codec.http2.DefaultHttp2Headers()
              .method("CONNECT")
              .authority("echo.test:7");
      stream.writeAndFlush(
          new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(headers, false));
      assertThat(frames.poll(5, TimeUnit.SECONDS)).isEqualTo("200");
      StringBuilder echoed = new StringBuilder();
      for (String msg : new String[] {"ping\n", "more bytes"}) {
        stream.writeAndFlush(
            new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
                io.netty.buffer.Unpooled.copiedBuffer(msg, StandardCharsets.US_ASCII), false));
        while (!echoed.toString().endsWith(msg)) {
          Object f = frames.poll(5, TimeUnit.SECONDS);
          assertThat(f).isNotNull();
          echoed.append(f);
        }
      }
      assertThat(echoed.toString()).isEqualTo("ping\nmore bytes");
      // END_STREAM half-closes the upstream; the echo server closes; the proxy ends the stream
      stream.writeAndFlush(
          new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
              io.netty.buffer.Unpooled.EMPTY_BUFFER, true));
      Object last = frames.poll(5, TimeUnit.SECONDS);
      while (last != null && !last.toString().startsWith("END:")) {
        last = frames.poll(5, TimeUnit.SECONDS);
      }
      assertThat(last).isEqualTo("END:");
      conn.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void curlTunnelsThroughTheProxyToAnHttpBackend() throws Exception {
    // -p: curl as an HTTP proxy client sends CONNECT web.test:80, then speaks HTTP in the tunnel
    Process p =
        new ProcessBuilder(
                "curl", "-sS", "-p", "-x", "http://" + IP + ":" + port, "http://web.test/hello")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(out).startsWith("backend=web path=/hello host=web.test");
    assertThat(p.exitValue()).isZero();
  }

  @Test
  void connectOnlyMatchesConnectRoutesAndOtherRequestsDoNotMatchThem() throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      // no connect_matcher route for this authority: 404, as Envoy's
      long early = stat("http.connect.downstream_rq_response_before_rq_complete");
      send(s.getOutputStream(), "CONNECT nowhere.test:1 HTTP/1.1\r\nHost: nowhere.test:1\r\n\r\n");
      // what follows a CONNECT head is the tunnel's, so a refusal ends the connection, as Envoy's
      assertThat(BadInputTest.readResponse(s.getInputStream()))
          .startsWith("HTTP/1.1 404")
          .contains("connection: close");
      assertThat(stat("http.connect.downstream_rq_response_before_rq_complete"))
          .isEqualTo(early + 1);
    }
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      // a GET to the CONNECT-only virtual host matches no route
      send(s.getOutputStream(), "GET /x HTTP/1.1\r\nHost: web.test:80\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 404");
      // and a GET elsewhere takes the path route on the same connection
      send(s.getOutputStream(), "GET /x HTTP/1.1\r\nHost: plain.test\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream()))
          .startsWith("HTTP/1.1 200")
          .endsWith("plain");
    }
  }

  @Test
  void withoutConnectInUpgradeConfigsConnectIsForbidden() throws Exception {
    try (Socket s = new Socket(IP, closedPort)) {
      s.setSoTimeout(5000);
      send(s.getOutputStream(), "CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
  }

  @Test
  void aConnectRouteThatWouldForwardTheConnectUpstreamIsRefusedNamingTheField() {
    String yaml =
        """
        static_resources:
          listeners:
          - name: bad
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: bad
                  upgrade_configs: [{upgrade_type: CONNECT}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {connect_matcher: {}}, route: {cluster: echo}}]
        """
            .formatted(IP, Ports.free(IP));
    assertThatThrownBy(
            () ->
                Proxy.start(
                        new BootstrapLoader().parse("bad.yaml", yaml),
                        ProxyOptions.defaults().withWorkers(1))
                    .close())
        .hasMessageContaining("virtual_hosts[0].routes[0].route.upgrade_configs")
        .hasMessageContaining("forwarding CONNECT upstream is not supported");
  }
}
