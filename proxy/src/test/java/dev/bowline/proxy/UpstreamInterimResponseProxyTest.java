package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interim (1xx) responses from upstreams, and upstream bytes that answer no request, as Envoy
 * handles them: its router counts 100, 102 and 103 ({@code upstream_rq_1xx}) and drops every 1xx
 * but an upgrade's 101 (its connection manager forwards none without {@code proxy_100_continue}),
 * and the final response follows on the same connection, which stays pooled; its HTTP/1 client
 * codec ends a connection whose peer sends what answers no request in flight (a response while none
 * is, more bytes after a response, bytes that do not parse, a body on a 1xx): {@code
 * upstream_cx_protocol_error}, and 502 {@code UPE} for a request whose response had not begun.
 * Upstreams are raw sockets that send exactly the bytes (HTTP/1.1) or frames (HTTP/2) each test
 * names; clients are raw sockets and the JDK's HttpClient.
 */
class UpstreamInterimResponseProxyTest {
  static final String IP = "127.0.91.1";

  static Scripted h1;
  static ServerSocket h2;
  // a listener with proxy_100_continue, which forwards interim responses
  static int forwardingPort;
  static final AtomicInteger h2Connections = new AtomicInteger();
  static Thread h2Server;
  static SocketProxy proxy;
  static int port;
  static final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static final String FINAL = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s";

  /**
   * The bytes the HTTP/1.1 upstream sends for a request to {@code path} on connection {@code n}.
   */
  static List<Scripted.Write> script(String path, int n) {
    String body = path + " conn=" + n;
    String ok = FINAL.formatted(body.length(), body);
    String stale = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale";
    return switch (path) {
      case "/100" -> List.of(Scripted.now("HTTP/1.1 100 Continue\r\n\r\n" + ok));
      case "/names" ->
          // x-http2-* names of the upstream's own, which Envoy forwards like any other header
          List.of(
              Scripted.now(
                  "HTTP/1.1 103 Early Hints\r\nX-Http2-Scheme: up\r\nX-Http2-Path: /up\r\n\r\n"),
              Scripted.later(
                  "HTTP/1.1 200 OK\r\nX-Http2-Scheme: up\r\nX-Http2-Path: /up\r\n"
                      + ok.substring("HTTP/1.1 200 OK\r\n".length())));
      case "/names-h2", "/names-cookie" ->
          // the same names, with x-http2-protocol and x-http2-stream-id, for an HTTP/2 client; a
          // cookie header (which takes Netty's conversion) on the second
          List.of(
              Scripted.now(
                  "HTTP/1.1 200 OK\r\nX-Http2-Scheme: up\r\nX-Http2-Path: /up\r\n"
                      + "X-Http2-Protocol: p\r\nX-Http2-Stream-Id: 7\r\n"
                      + (path.equals("/names-cookie") ? "Cookie: c=1\r\n" : "")
                      + ok.substring("HTTP/1.1 200 OK\r\n".length())));
      case "/102" -> List.of(Scripted.now("HTTP/1.1 102 Processing\r\n\r\n"), Scripted.later(ok));
      case "/103" ->
          List.of(
              Scripted.now("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"),
              Scripted.later(ok));
      case "/many" ->
          List.of(
              Scripted.now(
                  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                      + "HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n"
                      + "HTTP/1.1 103 Early Hints\r\nLink: </b.js>\r\n\r\n"
                      + "HTTP/1.1 199 Whatever\r\nX-Odd: 1\r\n\r\n"),
              Scripted.later(ok));
      // the same read brings more than the response: a stray interim, a whole second response
      case "/after1xx" -> List.of(Scripted.now(ok + "HTTP/1.1 100 Continue\r\n\r\n"));
      case "/extra" -> List.of(Scripted.now(ok + stale));
      // once the connection is idle, the start of a response nobody asked for
      case "/late" ->
          List.of(Scripted.now(ok), Scripted.later(stale.substring(0, stale.length() - 3)));
      case "/timeout" ->
          List.of(
              Scripted.now(ok),
              Scripted.later(
                  "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
      case "/garbage" -> List.of(Scripted.now("HTTP/1.1 2x0 Nope\r\nContent-Length: 0\r\n\r\n"));
      case "/1xxbody" ->
          List.of(Scripted.now("HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\nhello" + ok));
      case "/101" ->
          List.of(
              Scripted.now(
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n"));
      default -> List.of(Scripted.now(ok));
    };
  }

  @BeforeAll
  static void start() throws Exception {
    h1 = new Scripted("127.0.91.2", UpstreamInterimResponseProxyTest::script);
    h2 = new ServerSocket(0, 8, InetAddress.getByName("127.0.91.3"));
    h2Server = Thread.ofVirtual().start(UpstreamInterimResponseProxyTest::serveH2);
    port = Ports.free(IP);
    forwardingPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "interim",
                    IP,
                    port,
                    "codec_type: AUTO",
                    "{match: {prefix: /h2/}, route: {cluster: h2, timeout: 5s}}",
                    "{match: {prefix: /}, route: {cluster: h1, timeout: 5s}}"),
                SocketProxy.listener(
                    "forwarding",
                    IP,
                    forwardingPort,
                    "proxy_100_continue: true",
                    "{match: {prefix: /h2/}, route: {cluster: h2, timeout: 5s}}",
                    "{match: {prefix: /}, route: {cluster: h1, timeout: 5s}}")),
            List.of(
                SocketProxy.cluster("h1", "127.0.91.2", h1.port(), ""),
                SocketProxy.cluster(
                    "h2", "127.0.91.3", h2.getLocalPort(), "http2_protocol_options: {}")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    h1.close();
    h2.close();
    h2Server.join(5000);
  }

  static long stat(String name) {
    return proxy.stat(name);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** One request over a raw socket: everything the proxy sent until it closed. */
  static String raw(String request) throws IOException {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** The body of a request the upstream answered on connection {@code n}: {@code path conn=n}. */
  static String answered(String path, int n) {
    return path + " conn=" + n;
  }

  /** The upstream connection a request went on, from the body the upstream answered. */
  static int conn(String body) {
    return Integer.parseInt(body.substring(body.lastIndexOf('=') + 1));
  }

  /** The upstream connection now in the pool: the one a request goes on. */
  static int pooled() throws Exception {
    return conn(get("/warm").body());
  }

  @Test
  void interimResponsesAreDroppedAndTheFinalOneFollowsOnTheSamePooledConnection() throws Exception {
    int connection = pooled();
    long interims = stat("cluster.h1.upstream_rq_1xx");
    long downstream1xx = stat("http.interim.downstream_rq_1xx");
    for (String path : List.of("/100", "/102", "/103", "/many")) {
      String response = raw("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      // the client sees the final response only: no interim status line, none of its headers
      assertThat(response)
          .as(path)
          .startsWith("HTTP/1.1 200 OK\r\n")
          .doesNotContain(" 100 ", " 102 ", " 103 ", " 199 ")
          .doesNotContainIgnoringCase("link:")
          .doesNotContainIgnoringCase("x-odd")
          .endsWith(answered(path, connection));
    }
    // the connection served them all and serves the next request as it should
    assertThat(get("/next").body()).isEqualTo(answered("/next", connection));
    // Envoy's router counts 100, 102 and 103 (here 1 + 1 + 1 + 4), not 199; the client got none
    assertThat(stat("cluster.h1.upstream_rq_1xx")).isEqualTo(interims + 7);
    assertThat(stat("http.interim.downstream_rq_1xx")).isEqualTo(downstream1xx);
  }

  @Test
  void aClientsExpectIsAnsweredOnceByTheProxyWhenTheUpstreamSends100Too() throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /100 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                  + "Connection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String interim = new String(in.readNBytes(25), StandardCharsets.US_ASCII);
      assertThat(interim).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      String rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(rest).startsWith("HTTP/1.1 200 OK\r\n").doesNotContain("100 Continue");
      assertThat(rest).contains("\r\n\r\n/100 conn=");
    }
  }

  /** A GET of {@code path} on the proxy_100_continue listener: the heads of what came back. */
  static String[] forwardedHeads(String path) throws IOException {
    try (Socket s = new Socket(IP, forwardingPort)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return all.toLowerCase(java.util.Locale.ROOT).split("\r\n\r\n");
    }
  }

  @Test
  void forwardedInterimAndFinalHeadsCarryTheSameXHttp2Names() throws Exception {
    // with proxy_100_continue the 1xx heads are forwarded, with the upstream's headers as the
    // final head: an HTTP/1.1 upstream's own x-http2-* names on both (Envoy forwards them)
    String[] h1 = forwardedHeads("/names");
    assertThat(h1[0]).startsWith("http/1.1 103 early hints");
    assertThat(h1[1]).startsWith("http/1.1 200 ok");
    for (String head : List.of(h1[0], h1[1])) {
      assertThat(head).contains("\r\nx-http2-scheme: up").contains("\r\nx-http2-path: /up");
    }
    // an HTTP/2 upstream's: on neither the stream id Netty's conversion adds
    String[] h2 = forwardedHeads("/h2/names");
    assertThat(h2[0]).startsWith("http/1.1 100 continue");
    assertThat(h2[1]).startsWith("http/1.1 103 early hints").contains("\r\nlink: </s.css>");
    assertThat(h2[2]).startsWith("http/1.1 200 ok");
    assertThat(List.of(h2[0], h2[1], h2[2])).noneMatch(h -> h.contains("x-http2"));
  }

  @Test
  void anHttp2ClientGetsTheUpstreamsOwnXHttp2NamesButTheStreamId() throws Exception {
    // Envoy forwards x-http2-* names like any other header; the proxy drops x-http2-stream-id
    // by name, as it cannot tell an HTTP/1.1 upstream's own from the one Netty's conversion adds
    // to an HTTP/2 upstream's head
    for (String path : List.of("/names-h2", "/names-cookie")) {
      try (RawH2 c = proxy.h2(port)) {
        c.get(1, path, true);
        RawH2.Frame headers = c.readUntil(RawH2.HEADERS);
        assertThat(headers).as(path).isNotNull();
        var h = headers.headers();
        assertThat(h.status().toString()).isEqualTo("200");
        assertThat(h.get("x-http2-scheme")).as(path).hasToString("up");
        assertThat(h.get("x-http2-path")).as(path).hasToString("/up");
        assertThat(h.get("x-http2-protocol")).as(path).hasToString("p");
        assertThat(h.contains("x-http2-stream-id")).as(path).isFalse();
      }
    }
  }

  @Test
  void anHttp2ClientGetsTheFinalResponseOnly() throws Exception {
    int connection = pooled();
    try (RawH2 c = proxy.h2(port)) {
      c.get(1, "/many", true);
      RawH2.Frame headers = c.readUntil(RawH2.HEADERS);
      assertThat(headers).isNotNull();
      assertThat(headers.headers().status().toString()).isEqualTo("200");
      RawH2.Frame data = c.readUntil(RawH2.DATA);
      assertThat(new String(data.payload(), StandardCharsets.US_ASCII))
          .isEqualTo(answered("/many", connection));
    }
    assertThat(get("/next").body()).isEqualTo(answered("/next", connection));
  }

  @Test
  void bytesAfterTheResponseRetireTheConnection() throws Exception {
    for (String path : List.of("/after1xx", "/extra")) {
      int connection = pooled();
      long errors = stat("cluster.h1.upstream_cx_protocol_error");
      var r = get(path);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(answered(path, connection));
      assertThat(stat("cluster.h1.upstream_cx_protocol_error")).isEqualTo(errors + 1);
      // what followed the response is nobody's answer: the next request gets its own, on a new
      // connection
      String next = get("/next").body();
      assertThat(next).startsWith("/next conn=");
      assertThat(conn(next)).isGreaterThan(connection);
    }
  }

  @Test
  void aResponseWhileNoRequestIsInFlightRetiresTheConnection() throws Exception {
    int connection = pooled();
    long errors = stat("cluster.h1.upstream_cx_protocol_error");
    assertThat(get("/late").body()).isEqualTo(answered("/late", connection));
    // the upstream then starts a response on the idle connection; kept, the connection would hand
    // its rest to the next request
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> stat("cluster.h1.upstream_cx_protocol_error") == errors + 1);
    String next = get("/next").body();
    assertThat(next).startsWith("/next conn=");
    assertThat(conn(next)).isGreaterThan(connection);
  }

  @Test
  void aServersIdle408ClosesTheConnectionWithoutCountingAnError() throws Exception {
    int connection = pooled();
    long errors = stat("cluster.h1.upstream_cx_protocol_error");
    int closed = h1.closed.get();
    assertThat(get("/timeout").body()).isEqualTo(answered("/timeout", connection));
    // the server says 408 on the idle connection: the proxy closes it, the next request takes a
    // new one
    await().atMost(Duration.ofSeconds(20)).until(() -> h1.closed.get() > closed);
    String next = get("/next").body();
    assertThat(conn(next)).isGreaterThan(connection);
    assertThat(stat("cluster.h1.upstream_cx_protocol_error")).isEqualTo(errors);
  }

  @Test
  void whatIsNoResponseToTheRequestIs502UpstreamProtocolError() throws Exception {
    for (String path : List.of("/garbage", "/1xxbody", "/101")) {
      int connection = pooled();
      long errors = stat("cluster.h1.upstream_cx_protocol_error");
      var r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(502);
      assertThat(r.body())
          .as(path)
          .isEqualTo(
              "upstream connect error or disconnect/reset before headers. reset reason: protocol"
                  + " error");
      if (!path.equals("/101")) { // a 101 parses: the router refuses it, not the codec
        assertThat(stat("cluster.h1.upstream_cx_protocol_error")).as(path).isEqualTo(errors + 1);
      }
      String next = get("/next").body();
      assertThat(next).as(path).startsWith("/next conn=");
      assertThat(conn(next)).as(path).isGreaterThan(connection);
    }
  }

  @Test
  void interimHeadersOnAnHttp2UpstreamStreamAreDroppedAndTheStreamGoesOn() throws Exception {
    long interims = stat("cluster.h2.upstream_rq_1xx");
    for (int i = 0; i < 3; i++) {
      var r = get("/h2/interim" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("/h2/interim" + i + " h2conn=1");
      assertThat(r.headers().firstValue("link")).isEmpty();
    }
    assertThat(h2Connections.get()).isEqualTo(1);
    assertThat(stat("cluster.h2.upstream_rq_1xx")).isEqualTo(interims + 6);
  }

  /**
   * The HTTP/2 upstream: answers each request with HEADERS 100, HEADERS 103 with a link, then
   * HEADERS 200 and the body ({@code <path> h2conn=<n>}) in one DATA frame.
   */
  static void serveH2() {
    while (!h2.isClosed()) {
      try (RawH2 c = RawH2.accept(h2)) {
        c.socket().setSoTimeout(0);
        int n = h2Connections.incrementAndGet();
        RawH2.Frame f;
        while ((f = c.read()) != null) {
          if (f.type() != RawH2.HEADERS) {
            continue;
          }
          int stream = f.stream();
          String body = f.headers().path() + " h2conn=" + n;
          c.headers(stream, new DefaultHttp2Headers().status("100"), false)
              .headers(
                  stream,
                  new DefaultHttp2Headers().status("103").add("link", "</s.css>; rel=preload"),
                  false)
              .headers(stream, new DefaultHttp2Headers().status("200"), false)
              .data(stream, body.getBytes(StandardCharsets.US_ASCII), true);
        }
      } catch (IOException e) {
        // closed: the test is over, or the proxy went away
      }
    }
  }

  /**
   * An HTTP/1.1 upstream that answers each request with the writes its script names for the
   * request's path and connection number (1, 2, ...): the exact bytes, the later ones after a
   * pause.
   */
  static final class Scripted implements AutoCloseable {
    record Write(String text, boolean later) {}

    static Write now(String text) {
      return new Write(text, false);
    }

    static Write later(String text) {
      return new Write(text, true);
    }

    interface Script {
      List<Write> answer(String path, int connection);
    }

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    private final ServerSocket server;
    private final Script script;
    private final Thread acceptor;

    Scripted(String ip, Script script) throws IOException {
      this.server = new ServerSocket(0, 16, InetAddress.getByName(ip));
      this.script = script;
      this.acceptor = Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
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
          String path = head.split(" ", 3)[1];
          int length = 0;
          for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
              length = Integer.parseInt(line.substring(15).trim());
            }
          }
          in.readNBytes(length);
          for (Write w : script.answer(path, n)) {
            if (w.later()) {
              Thread.sleep(200);
            }
            out.write(w.text().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
        }
      } catch (IOException | InterruptedException e) {
        // the proxy closed the connection
      } finally {
        closed.incrementAndGet();
      }
    }

    @Override
    public void close() throws Exception {
      server.close();
      acceptor.join(5000);
    }
  }
}
