package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an HTTP/1.1 upstream sends that is no valid response, as Envoy answers it, over real
 * sockets: a malformed response head, a head over the 80 KiB Envoy's HTTP/1 codec reads, or more
 * than its 100 headers ({@code max_headers_count}) is 502 with {@code UPE} and details {@code
 * upstream_reset_before_response_started{protocol_error}}, counted in {@code
 * upstream_cx_protocol_error}; an invalid chunk after the head resets the downstream ({@code
 * upstream_reset_after_response_started{protocol_error}}); a body shorter than its content-length
 * resets it too ({@code UC}, {@code connection_termination}), a longer one is cut at its length and
 * the connection retired. Meanwhile requests on the cluster's other connections are served and the
 * connections that carried only good responses stay open in the pool. On an HTTP/2 upstream, a
 * stream whose frames are no response (DATA before its HEADERS, a head without a valid {@code
 * :status}, an interim head that ends the stream) is reset with PROTOCOL_ERROR and answered 502
 * {@code UPE}; the connection serves on. A GOAWAY whose last stream id grows is a protocol error of
 * its connection: 502 {@code UPE} for its streams, nothing logged, a new connection for the next.
 */
class UpstreamMalformedResponseProxyTest {
  static final String IP = "127.0.7.80";
  static final String FORMAT =
      "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";
  static final String CONNECT_ERROR =
      "upstream connect error or disconnect/reset before headers. reset reason: protocol error";

  @TempDir static Path dir;
  static Upstream upstream;
  static ServerSocket h2;
  static ServerSocket h2b;
  static final AtomicInteger h2Connections = new AtomicInteger();
  static final AtomicInteger h2Closed = new AtomicInteger();
  static final java.util.concurrent.atomic.AtomicLong h2InternalErrorResets =
      new java.util.concurrent.atomic.AtomicLong();
  static final CompletableFuture<Void> idleGoAway = new CompletableFuture<>();
  static SocketProxy proxy;
  static int port;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream("127.0.7.81");
    h2 = new ServerSocket(0, 8, InetAddress.getByName("127.0.7.82"));
    Thread.ofVirtual().start(() -> serveH2(h2));
    // the h2limits cluster's server (one serves one connection at a time)
    h2b = new ServerSocket(0, 8, InetAddress.getByName("127.0.7.83"));
    Thread.ofVirtual().start(() -> serveH2(h2b));
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "bad",
                    IP,
                    port,
                    """
                    access_log:
                    - name: envoy.access_loggers.file
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                        path: %s
                        log_format: {text_format_source: {inline_string: "%s"}}"""
                        .formatted(dir.resolve("bad.log"), FORMAT),
                    "{match: {prefix: /h2/}, route: {cluster: h2, timeout: 10s}}",
                    "{match: {prefix: /limits/}, route: {cluster: limits, timeout: 10s}}",
                    "{match: {prefix: /h2limits/}, route: {cluster: h2limits, timeout: 10s}}",
                    "{match: {prefix: /}, route: {cluster: up, timeout: 10s}}")),
            List.of(
                SocketProxy.cluster("up", "127.0.7.81", upstream.port(), ""),
                SocketProxy.cluster(
                    "limits",
                    "127.0.7.81",
                    upstream.port(),
                    SocketProxy.httpProtocolOptions(
                        """
                        explicit_http_config: {http_protocol_options: {}}
                        common_http_protocol_options: {max_headers_count: 20, max_response_headers_kb: 16}
                        """)),
                SocketProxy.cluster(
                    "h2", "127.0.7.82", h2.getLocalPort(), "http2_protocol_options: {}"),
                SocketProxy.cluster(
                    "h2limits",
                    "127.0.7.83",
                    h2b.getLocalPort(),
                    SocketProxy.httpProtocolOptions(
                        """
                        explicit_http_config: {http2_protocol_options: {}}
                        common_http_protocol_options: {max_headers_count: 20}
                        """))));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    upstream.close();
    h2.close();
    h2b.close();
  }

  static long protocolErrors() {
    return proxy.stat("cluster.up.upstream_cx_protocol_error");
  }

  /** The access log's line for the request to {@code path} once it is written. */
  static String logged(String path) {
    Path log = dir.resolve("bad.log");
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                Files.exists(log)
                    ? Files.readAllLines(log).stream()
                        .filter(l -> l.startsWith(path + " "))
                        .findFirst()
                        .orElse(null)
                    : null,
            l -> l != null);
  }

  /** One request over a raw socket: everything the proxy sent until it closed the connection. */
  static String raw(String path) throws IOException {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(request(path), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
        .timeout(Duration.ofSeconds(15))
        .build();
  }

  /**
   * The request to {@code path} is answered 502 with Envoy's body, logged {@code UPE} with Envoy's
   * details, and counted once in {@code upstream_cx_protocol_error}.
   */
  static void isUpstreamProtocolError(String path) throws Exception {
    isUpstreamProtocolError(path, "up");
  }

  /** As above, counted in {@code cluster}'s {@code upstream_cx_protocol_error} only. */
  static void isUpstreamProtocolError(String path, String cluster) throws Exception {
    String counter = "cluster." + cluster + ".upstream_cx_protocol_error";
    String other =
        "cluster." + (cluster.equals("up") ? "limits" : "up") + ".upstream_cx_protocol_error";
    long errors = proxy.stat(counter);
    long others = proxy.stat(other);
    var r = get(path);
    assertThat(r.statusCode()).as(path).isEqualTo(502);
    assertThat(r.body()).as(path).isEqualTo(CONNECT_ERROR);
    assertThat(logged(path))
        .isEqualTo(path + " 502 UPE upstream_reset_before_response_started{protocol_error}");
    assertThat(proxy.stat(counter)).as(path).isEqualTo(errors + 1);
    assertThat(proxy.stat(other)).as("the other cluster's count").isEqualTo(others);
  }

  @Test
  void aMalformedHeadIs502UpstreamProtocolError() throws Exception {
    for (String path : List.of("/bad-head", "/no-code", "/not-http")) {
      isUpstreamProtocolError(path);
    }
  }

  @Test
  void aHeadOverEnvoys80KiBOrWithMoreThan100HeadersIs502() throws Exception {
    // Envoy's HTTP/1 codec reads response heads up to 80 KiB (http_parser's limit, its default
    // max_response_headers_kb) and 100 headers (max_headers_count): up to there they are served
    assertThat(get("/big-70k").statusCode()).isEqualTo(200);
    assertThat(get("/headers-100").statusCode()).isEqualTo(200);
    for (String path : List.of("/big-90k", "/headers-101")) {
      isUpstreamProtocolError(path);
    }
  }

  @Test
  void theClustersMaxHeadersCountAndMaxResponseHeadersKbBoundItsHttp1Responses() throws Exception {
    // the cluster "limits" (same backend) sets max_headers_count 20 and max_response_headers_kb 16
    // in its HttpProtocolOptions: Envoy's HTTP/1 client codec takes up to there, a codec protocol
    // error beyond (upstream_cx_protocol_error; 502 UPE protocol_error) on that cluster only
    assertThat(get("/limits/big-10k").statusCode()).isEqualTo(200);
    assertThat(get("/limits/headers-20").statusCode()).isEqualTo(200);
    for (String path : List.of("/limits/big-20k", "/limits/headers-21")) {
      isUpstreamProtocolError(path, "limits");
    }
    // the default cluster to the same backend still takes them (Envoy's 80 KiB and 100 headers)
    assertThat(get("/big-20k").statusCode()).isEqualTo(200);
  }

  @Test
  void anHttp2ResponseHeadUpToEnvoys60KiBDefaultIsServed() throws Exception {
    // Envoy's HTTP/2 client codec takes a response header list up to max_response_headers_kb,
    // 60 KiB when unset; Netty's own default was 8 KiB
    var r = get("/h2/big-40k");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-big").orElseThrow()).hasSize(40 * 1024);
  }

  @Test
  void anHttp2ResponseOverMaxHeadersCountIsResetAsEnvoysCodecDoes() throws Exception {
    // Envoy's HTTP/2 codec (saveHeader) counts each block's fields, :status included, against the
    // cluster's max_headers_count: over it, http2.header_overflow, RST_STREAM INTERNAL_ERROR, and
    // the stream's close is a RemoteReset (503 UR); the connection serves on
    String first = get("/h2limits/ok1").body();
    assertThat(first).startsWith("/h2limits/ok1 h2conn=");
    long overflow = proxy.stat("cluster.h2limits.http2.header_overflow");
    long rxReset = proxy.stat("cluster.h2limits.upstream_rq_rx_reset");
    long internalErrors = h2InternalErrorResets.get();
    assertThat(get("/h2limits/headers-20").statusCode()).as("20 fields").isEqualTo(200);
    var r = get("/h2limits/headers-21");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body())
        .isEqualTo(
            "upstream connect error or disconnect/reset before headers. reset reason: remote reset");
    assertThat(logged("/h2limits/headers-21"))
        .isEqualTo(
            "/h2limits/headers-21 503 UR upstream_reset_before_response_started{remote_reset}");
    assertThat(proxy.stat("cluster.h2limits.http2.header_overflow")).isEqualTo(overflow + 1);
    assertThat(proxy.stat("cluster.h2limits.upstream_rq_rx_reset")).isEqualTo(rxReset + 1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(h2InternalErrorResets.get())
                    .as("RST_STREAM INTERNAL_ERROR at the upstream")
                    .isEqualTo(internalErrors + 1));
    // the default cluster (Envoy's 100) takes the same response
    assertThat(get("/h2/headers-21").statusCode()).isEqualTo(200);
    // so is a header list over the cluster's byte limit (Envoy's HTTP/2 default 60 KiB), which
    // saveHeader checks in the same condition
    long h2Overflow = proxy.stat("cluster.h2.http2.header_overflow");
    assertThat(get("/h2/big-70k").statusCode()).isEqualTo(503);
    assertThat(logged("/h2/big-70k"))
        .isEqualTo("/h2/big-70k 503 UR upstream_reset_before_response_started{remote_reset}");
    assertThat(proxy.stat("cluster.h2.http2.header_overflow")).isEqualTo(h2Overflow + 1);
    assertThat(get("/h2limits/ok2").body())
        .isEqualTo("/h2limits/ok2 " + first.substring(first.indexOf("h2conn=")));
  }

  @Test
  void anInvalidChunkAfterTheHeadResetsTheDownstream() throws Exception {
    long errors = protocolErrors();
    String answer = raw("/bad-chunk");
    // the head and the first chunk went out; then the connection closed without the last chunk
    assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").contains("hello");
    assertThat(answer).doesNotEndWith("0\r\n\r\n");
    assertThat(logged("/bad-chunk"))
        .isEqualTo("/bad-chunk 200 UPE upstream_reset_after_response_started{protocol_error}");
    assertThat(protocolErrors()).isEqualTo(errors + 1);
  }

  @Test
  void aBodyShorterThanItsContentLengthResetsTheDownstream() throws Exception {
    String answer = raw("/short");
    assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 10");
    // three of the ten bytes, then the close
    assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4)).isEqualTo("abc");
    assertThat(logged("/short"))
        .isEqualTo("/short 200 UC upstream_reset_after_response_started{connection_termination}");
  }

  @Test
  void aBodyLongerThanItsContentLengthIsCutAndTheConnectionRetired() throws Exception {
    long errors = protocolErrors();
    var r = get("/long");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("abc");
    int conn = upstream.connectionOf("/long");
    await().atMost(Duration.ofSeconds(20)).until(() -> upstream.closed.contains(conn));
    assertThat(protocolErrors()).isEqualTo(errors + 1);
    assertThat(logged("/long")).isEqualTo("/long 200 - via_upstream");
  }

  @Test
  void goodRequestsAndHealthyPooledConnectionsSurviveBadResponses() throws Exception {
    // three connections in the pool, from three concurrent slow requests
    List<String> warm = concurrently("/slow?w", 3);
    Set<Integer> pooled = Set.copyOf(warm.stream().map(Upstream::conn).toList());
    assertThat(pooled).hasSize(3);

    // three slow good requests take the pooled connections while bad responses arrive on others
    List<CompletableFuture<HttpResponse<String>>> good = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      good.add(client.sendAsync(request("/slow?g" + i), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> upstream.inFlight.get() == 3);
    long errors = protocolErrors();
    List<String> bad = List.of("/bad-head?c", "/big-90k?c", "/headers-101?c", "/bad-chunk?c");
    List<CompletableFuture<Void>> badDone = new ArrayList<>();
    for (String path : bad) {
      badDone.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  raw(path);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              }));
    }
    CompletableFuture.allOf(badDone.toArray(CompletableFuture[]::new)).get();
    for (int i = 0; i < 3; i++) {
      var r = good.get(i).get();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).startsWith("/slow?g" + i + " conn=");
    }
    assertThat(protocolErrors()).isEqualTo(errors + bad.size());

    // the connections that carried a bad response are closed, the others are not
    Set<Integer> badConnections = new java.util.HashSet<>();
    for (String path : bad) {
      badConnections.add(upstream.connectionOf(path));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> upstream.closed.containsAll(badConnections));
    Set<Integer> healthy = new java.util.HashSet<>(pooled);
    for (var r : good) {
      healthy.add(Upstream.conn(r.get().body()));
    }
    healthy.removeAll(badConnections);
    assertThat(healthy).as("connections that served the good requests").isNotEmpty();
    assertThat(upstream.closed)
        .as("healthy connections closed")
        .doesNotContainAnyElementsOf(healthy);

    // the pool serves as many concurrent requests again without a new connection, on open ones
    int connections = upstream.connections.get();
    List<String> next = concurrently("/slow?n", healthy.size());
    assertThat(upstream.connections.get()).isEqualTo(connections);
    for (String body : next) {
      assertThat(upstream.closed).doesNotContain(Upstream.conn(body));
    }
  }

  @Test
  void anHttp2StreamWithoutAValidHeadIs502AndItsConnectionServesOn() throws Exception {
    String first = get("/h2/ok1").body();
    assertThat(first).startsWith("/h2/ok1 h2conn=");
    int connections = h2Connections.get();
    long txReset = proxy.stat("cluster.h2.upstream_rq_tx_reset");
    // DATA before the response's HEADERS; a header block without :status (Netty's stream codec
    // would make it trailers); a :status that is no number; an interim head (103) that ends the
    // stream (no final head can follow)
    for (String path :
        List.of("/h2/data-first", "/h2/no-status", "/h2/bad-status", "/h2/interim-ends")) {
      var r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(502);
      assertThat(r.body()).as(path).isEqualTo(CONNECT_ERROR);
      assertThat(logged(path))
          .isEqualTo(path + " 502 UPE upstream_reset_before_response_started{protocol_error}");
    }
    // Envoy's pool counts a stream it reset for a protocol error as a reset sent
    assertThat(proxy.stat("cluster.h2.upstream_rq_tx_reset")).isEqualTo(txReset + 4);
    // a stream error: the connection serves the next request
    assertThat(get("/h2/ok2").body())
        .isEqualTo("/h2/ok2 " + first.substring(first.indexOf("h2conn=")));
    assertThat(h2Connections.get()).isEqualTo(connections);
  }

  /**
   * A GOAWAY whose last stream id is above the previous GOAWAY's is a connection error (RFC 9113
   * 6.8; nghttp2's {@code GOAWAY: invalid last_stream_id}): Envoy's codec client counts {@code
   * upstream_cx_protocol_error}, closes the connection and resets its streams with {@code
   * ProtocolError} (502 {@code UPE}). Nothing is logged above debug (the peer chose it), and the
   * next request gets a new connection.
   */
  @Test
  void anHttp2GoAwayWhoseLastStreamIdGrowsIsAProtocolErrorOfItsConnection() throws Exception {
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            if (r.getLevel().intValue() >= java.util.logging.Level.INFO.intValue()) {
              warnings.add(r.getLevel() + " " + r.getLoggerName() + " " + r.getMessage());
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.addHandler(capture);
    try {
      String first = get("/h2/before-goaway").body();
      long protocol = proxy.stat("cluster.h2.upstream_cx_protocol_error");
      int closed = h2Closed.get();
      var r = get("/h2/goaway-grows");
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(r.body()).isEqualTo(CONNECT_ERROR);
      assertThat(logged("/h2/goaway-grows"))
          .isEqualTo(
              "/h2/goaway-grows 502 UPE upstream_reset_before_response_started{protocol_error}");
      assertThat(proxy.stat("cluster.h2.upstream_cx_protocol_error")).isEqualTo(protocol + 1);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> h2Closed.get() > closed); // the proxy closed that connection
      String next = get("/h2/after-goaway").body();
      assertThat(next.substring(next.indexOf("h2conn=")))
          .isNotEqualTo(first.substring(first.indexOf("h2conn=")));
      // the same two GOAWAYs on an idle connection: the first closes it, the second is read from
      // what was left of that read (it was the fuzz target's open input)
      assertThat(get("/h2/idle-goaway").statusCode()).isEqualTo(200);
      int idleClosed = h2Closed.get();
      idleGoAway.complete(null);
      await().atMost(Duration.ofSeconds(10)).until(() -> h2Closed.get() > idleClosed);
      assertThat(get("/h2/after-idle-goaway").statusCode()).isEqualTo(200);
      assertThat(warnings).isEmpty();
    } finally {
      root.removeHandler(capture);
    }
  }

  /**
   * The HTTP/2 upstream: answers each request by its path with raw frames; a good one with HEADERS
   * 200 and the body {@code <path> h2conn=<n>}.
   */
  static void serveH2(ServerSocket h2) {
    while (!h2.isClosed()) {
      try (RawH2 c = RawH2.accept(h2)) {
        c.socket().setSoTimeout(0);
        int n = h2Connections.incrementAndGet();
        RawH2.Frame f;
        while ((f = c.read()) != null) {
          if (f.type() == RawH2.RST_STREAM
              && f.errorCode() == io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR.code()) {
            h2InternalErrorResets.incrementAndGet();
          }
          if (f.type() != RawH2.HEADERS) {
            continue;
          }
          int stream = f.stream();
          String path = f.headers().path().toString();
          var ok = new io.netty.handler.codec.http2.DefaultHttp2Headers().status("200");
          if (path.endsWith("/headers-20") || path.endsWith("/headers-21")) {
            // :status and 19 or 20 more fields
            var h = new io.netty.handler.codec.http2.DefaultHttp2Headers().status("200");
            int fields = Integer.parseInt(path.substring(path.length() - 2));
            for (int i = 1; i < fields; i++) {
              h.add("x-h" + i, "v");
            }
            c.headers(stream, h, false).data(stream, path, true);
            continue;
          }
          switch (path) {
            case "/h2/data-first" -> c.data(stream, "early", false).headers(stream, ok, true);
            case "/h2/no-status" ->
                c.headers(
                    stream,
                    new io.netty.handler.codec.http2.DefaultHttp2Headers().add("x", "y"),
                    true);
            case "/h2/bad-status" ->
                c.headers(
                    stream,
                    new io.netty.handler.codec.http2.DefaultHttp2Headers().status("2x0"),
                    true);
            case "/h2/idle-goaway" -> {
              // answered; once the test says the connection is idle, two GOAWAYs in one write,
              // the second's last stream id above the first's
              c.headers(stream, ok, false).data(stream, path + " h2conn=" + n, true);
              idleGoAway.join();
              growingGoAways(c, stream);
            }
            case "/h2/interim-ends" ->
                c.headers(
                    stream,
                    new io.netty.handler.codec.http2.DefaultHttp2Headers().status("103"),
                    true);
            case "/h2/big-40k" ->
                c.headers(
                        stream,
                        new io.netty.handler.codec.http2.DefaultHttp2Headers()
                            .status("200")
                            .add("x-big", "y".repeat(40 * 1024)),
                        false)
                    .data(stream, path, true);
            case "/h2/big-70k" ->
                c.headers(
                        stream,
                        new io.netty.handler.codec.http2.DefaultHttp2Headers()
                            .status("200")
                            .add("x-big", "y".repeat(70 * 1024)),
                        false)
                    .data(stream, path, true);
            case "/h2/goaway-grows" ->
                // a graceful GOAWAY that keeps this stream, then one whose last stream id grows
                growingGoAways(c, stream);
            default -> c.headers(stream, ok, false).data(stream, path + " h2conn=" + n, true);
          }
        }
        h2Closed.incrementAndGet();
      } catch (IOException e) {
        // closed: the test is over, or the proxy went away
      }
    }
  }

  /**
   * A GOAWAY that keeps {@code stream}, then one whose last stream id is above it, in one write.
   */
  static void growingGoAways(RawH2 c, int stream) throws IOException {
    c.frames(
        (w, x) -> {
          w.writeGoAway(x, stream, 0, io.netty.buffer.Unpooled.EMPTY_BUFFER, x.newPromise());
          w.writeGoAway(x, stream + 2, 0, io.netty.buffer.Unpooled.EMPTY_BUFFER, x.newPromise());
        });
  }

  /** {@code n} concurrent requests to {@code path}+index; their bodies. */
  static List<String> concurrently(String path, int n) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(client.sendAsync(request(path + i), HttpResponse.BodyHandlers.ofString()));
    }
    List<String> bodies = new ArrayList<>();
    for (var f : all) {
      var r = f.get();
      assertThat(r.statusCode()).isEqualTo(200);
      bodies.add(r.body());
    }
    return bodies;
  }

  /**
   * The HTTP/1.1 upstream: answers each request by its path (without the query) with exact bytes,
   * and records which connection (1, 2, ...) served which request and which connections closed.
   */
  static final class Upstream implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final Set<Integer> closed = ConcurrentHashMap.newKeySet();
    final Map<Integer, List<String>> served = new ConcurrentHashMap<>();
    private final ServerSocket server;

    Upstream(String ip) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName(ip));
      Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    /** The connection that served the request to {@code path} (with its query). */
    int connectionOf(String path) {
      return await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  served.entrySet().stream()
                      .filter(e -> e.getValue().contains(path))
                      .map(Map.Entry::getKey)
                      .findFirst()
                      .orElse(0),
              c -> c > 0);
    }

    /** The connection named in a body {@code <path> conn=<n>}. */
    static int conn(String body) {
      return Integer.parseInt(body.substring(body.lastIndexOf('=') + 1));
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          int n = connections.incrementAndGet();
          Thread.ofVirtual().start(() -> serve(s, n));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s, int n) {
      try (s) {
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        String head;
        while ((head = ScriptedBackend.readHead(in)) != null) {
          String target = head.split(" ", 3)[1];
          served.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>()).add(target);
          String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
          if (!answer(path, target + " conn=" + n, out)) {
            return;
          }
        }
      } catch (IOException | InterruptedException e) {
        // the proxy closed the connection
      } finally {
        closed.add(n);
      }
    }

    /** Writes the answer for {@code path}; false to close the connection after it. */
    private boolean answer(String path, String body, OutputStream out)
        throws IOException, InterruptedException {
      switch (path) {
        case "/slow" -> {
          inFlight.incrementAndGet();
          Thread.sleep(400);
          inFlight.decrementAndGet();
          ScriptedBackend.write(out, ok(body, ""));
        }
        case "/bad-head" ->
            ScriptedBackend.write(out, "HTTP/1.1 2x0 Nope\r\nContent-Length: 0\r\n\r\n");
        case "/no-code" -> ScriptedBackend.write(out, "HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n");
        case "/not-http" -> ScriptedBackend.write(out, "SSH-2.0-OpenSSH_9.6\r\n\r\n");
        case "/big-70k" ->
            ScriptedBackend.write(out, ok(body, "X-Big: " + "y".repeat(70 * 1024) + "\r\n"));
        case "/limits/big-10k" ->
            ScriptedBackend.write(out, ok(body, "X-Big: " + "y".repeat(10 * 1024) + "\r\n"));
        case "/big-20k", "/limits/big-20k" ->
            ScriptedBackend.write(out, ok(body, "X-Big: " + "y".repeat(20 * 1024) + "\r\n"));
        case "/limits/headers-20" ->
            ScriptedBackend.write(out, ok(body, headers(19))); // and content-length
        case "/limits/headers-21" -> ScriptedBackend.write(out, ok(body, headers(20)));
        case "/big-90k" ->
            ScriptedBackend.write(out, ok(body, "X-Big: " + "y".repeat(90 * 1024) + "\r\n"));
        case "/headers-100" ->
            ScriptedBackend.write(out, ok(body, headers(99))); // and content-length
        case "/headers-101" -> ScriptedBackend.write(out, ok(body, headers(100)));
        case "/bad-chunk" -> {
          ScriptedBackend.write(
              out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
          Thread.sleep(200); // the head and the first chunk reach the client first
          ScriptedBackend.write(out, "ZZZ\r\nabc\r\n0\r\n\r\n");
        }
        case "/short" -> {
          ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
          return false;
        }
        case "/long" ->
            ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdefgh");
        default -> ScriptedBackend.write(out, ok(body, ""));
      }
      return true;
    }

    private static String ok(String body, String headers) {
      return "HTTP/1.1 200 OK\r\n"
          + headers
          + "Content-Length: "
          + body.length()
          + "\r\n\r\n"
          + body;
    }

    private static String headers(int n) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < n; i++) {
        b.append("x-h").append(i).append(": v\r\n");
      }
      return b.toString();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
