package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/1 trailers as Envoy's HTTP/1 codec treats them: dropped both ways unless {@code
 * http_protocol_options.enable_trailers} is set, on the listener for the downstream side and on the
 * cluster for an upstream HTTP/1.1 connection; HTTP/2 trailers pass whatever the HTTP/1 options
 * say; with trailers enabled, {@code max_headers_count} applies to them (431 {@code
 * http1.too_many_headers}). Real sockets: a raw HTTP/1.1 client, a raw HTTP/2 client, and a Netty
 * backend that records the trailers it receives and answers with a trailer of its own.
 */
class TrailersProxyTest {
  static final String IP = "127.0.70.1";
  static final String FORMAT =
      "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS%"
          + " %RESPONSE_CODE_DETAILS%\\n";

  @TempDir static Path dir;
  static TrailerBackend backend;
  static SocketProxy proxy;
  static int plainPort; // no enable_trailers
  static int trailersPort; // enable_trailers, max_headers_count 8

  static String listener(String name, int port, String options) {
    return SocketProxy.listener(
        name,
        IP,
        port,
        "codec_type: AUTO\n"
            + options
            + "\n"
            + SocketProxy.accessLog(dir.resolve(name + ".log"), FORMAT),
        SocketProxy.to("/plain", "plain"),
        SocketProxy.to("/on", "trailers"));
  }

  static String cluster(String name, String http1Options) {
    return SocketProxy.cluster(
        name,
        backend.ip(),
        backend.port(),
        SocketProxy.httpProtocolOptions(
            "explicit_http_config: {http_protocol_options: {%s}}".formatted(http1Options)));
  }

  @BeforeAll
  static void start() throws Exception {
    backend = new TrailerBackend("127.0.70.2");
    plainPort = Ports.free(IP);
    trailersPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                listener("plain", plainPort, ""),
                listener(
                    "trailers",
                    trailersPort,
                    """
                    http_protocol_options: {enable_trailers: true}
                    common_http_protocol_options: {max_headers_count: 8}""")),
            List.of(cluster("plain", ""), cluster("trailers", "enable_trailers: true")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /** A chunked POST to {@code path} ending with {@code trailers}; the whole response as text. */
  static String post(int port, String path, String trailers) throws Exception {
    return post(IP, port, path, trailers);
  }

  /** {@link #post(int, String, String)} to a proxy on {@code ip}. */
  static String post(String ip, int port, String path, String trailers) throws Exception {
    try (Socket s = new Socket(ip, port)) {
      s.setSoTimeout(10_000);
      String request =
          "POST "
              + path
              + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
              + "5\r\nhello\r\n0\r\n"
              + trailers
              + "\r\n";
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  static List<String> lines(String listener, int n) {
    return lines(dir, listener, n);
  }

  /** The lines of {@code listener}'s access log in {@code dir}, once there are {@code n}. */
  static List<String> lines(Path dir, String listener, int n) {
    Path log = dir.resolve(listener + ".log");
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> Files.exists(log) ? Files.readAllLines(log) : List.<String>of(),
            l -> l.size() >= n);
  }

  @Test
  void withoutEnableTrailersTheListenerDropsThemBothWays() throws Exception {
    // the cluster would carry them: only the downstream codec drops them
    String response = post(plainPort, "/on/a", "x-req-trailer: q\r\n");
    assertThat(response).startsWith("HTTP/1.1 200").contains("body=/on/a...").endsWith("0\r\n\r\n");
    assertThat(backend.trailers.get("/on/a")).isEqualTo("");
    assertThat(backend.bodies.get("/on/a")).isEqualTo("hello");
    assertThat(response.toLowerCase()).doesNotContain("x-resp-trailer");
  }

  @Test
  void withEnableTrailersOnListenerAndClusterTheyPassBothWays() throws Exception {
    String response = post(trailersPort, "/on/b", "x-req-trailer: q\r\n");
    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(backend.trailers.get("/on/b")).isEqualTo("x-req-trailer=q");
    assertThat(backend.bodies.get("/on/b")).isEqualTo("hello");
    assertThat(response.toLowerCase()).endsWith("0\r\nx-resp-trailer: r\r\n\r\n");
  }

  @Test
  void withoutEnableTrailersTheClusterDropsThemBothWays() throws Exception {
    // the listener would carry them: only the upstream codec drops them
    String response = post(trailersPort, "/plain/c", "x-req-trailer: q\r\n");
    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(backend.trailers.get("/plain/c")).isEqualTo("");
    assertThat(backend.bodies.get("/plain/c")).isEqualTo("hello");
    assertThat(response.toLowerCase()).doesNotContain("x-resp-trailer");
  }

  @Test
  void enabledTrailersCountAgainstMaxHeadersCount() throws Exception {
    StringBuilder nine = new StringBuilder();
    for (int i = 1; i <= 9; i++) {
      nine.append("x-t").append(i).append(": v\r\n");
    }
    int logged = lines("trailers", 0).size();
    String refused = post(trailersPort, "/on/d", nine.toString());
    assertThat(refused).startsWith("HTTP/1.1 431 Request Header Fields Too Large");
    assertThat(lines("trailers", logged + 1))
        .contains("POST /on/d HTTP/1.1 431 DPE http1.too_many_headers");
    // where trailers are dropped, their count does not matter
    assertThat(post(plainPort, "/on/e", nine.toString())).startsWith("HTTP/1.1 200");
    assertThat(backend.trailers.get("/on/e")).isEqualTo("");
  }

  @Test
  void http2TrailersPassWhateverTheHttp1OptionsSay() throws Exception {
    // an HTTP/2 client on the listener without enable_trailers, to the cluster that enables them
    try (RawH2 c = RawH2.open(IP, plainPort)) {
      c.frames(
          (w, ctx) -> {
            w.writeHeaders(
                ctx,
                1,
                new DefaultHttp2Headers()
                    .method("POST")
                    .path("/on/f")
                    .scheme("http")
                    .authority("t"),
                0,
                false,
                ctx.newPromise());
            w.writeData(
                ctx,
                1,
                Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII),
                0,
                false,
                ctx.newPromise());
            w.writeHeaders(
                ctx,
                1,
                new DefaultHttp2Headers().add("x-req-trailer", "h2"),
                0,
                true,
                ctx.newPromise());
          });
      Frame head = c.readUntil(RawH2.HEADERS);
      assertThat(head).isNotNull();
      assertThat(head.headers().status().toString()).isEqualTo("200");
      Frame trailers = c.readUntil(RawH2.HEADERS);
      assertThat(trailers).isNotNull();
      assertThat(trailers.endStream()).isTrue();
      assertThat(trailers.headers().get("x-resp-trailer").toString()).isEqualTo("r");
    }
    assertThat(backend.trailers.get("/on/f")).isEqualTo("x-req-trailer=h2");
  }

  /**
   * An HTTP/1.1 backend that records each request's body and trailers by path and answers with a
   * chunked body ending in the trailer {@code x-resp-trailer: r}.
   */
  static final class TrailerBackend implements AutoCloseable {
    final Map<String, String> trailers = new ConcurrentHashMap<>();
    final Map<String, String> bodies = new ConcurrentHashMap<>();
    private final EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    TrailerBackend(String ip) throws InterruptedException {
      server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline().addLast(new HttpServerCodec(), new Handler());
                    }
                  })
              .bind(new InetSocketAddress(ip, 0))
              .sync()
              .channel();
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
      private String path = "";
      private final StringBuilder body = new StringBuilder();

      @Override
      protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
        if (msg instanceof HttpRequest r) {
          path = r.uri();
          body.setLength(0);
        }
        if (msg instanceof io.netty.handler.codec.http.HttpContent c) {
          body.append(c.content().toString(StandardCharsets.US_ASCII));
        }
        if (msg instanceof LastHttpContent last) {
          StringBuilder t = new StringBuilder();
          last.trailingHeaders()
              .forEach(
                  e ->
                      t.append(t.isEmpty() ? "" : ",")
                          .append(e.getKey())
                          .append('=')
                          .append(e.getValue()));
          bodies.put(path, body.toString());
          trailers.put(path, t.toString());
          var head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
          ctx.write(head);
          ctx.write(
              new DefaultHttpContent(
                  Unpooled.copiedBuffer("body=" + path + "...", StandardCharsets.US_ASCII)));
          var end = new DefaultLastHttpContent();
          end.trailingHeaders().set("x-resp-trailer", "r");
          ctx.writeAndFlush(end);
        }
      }
    }

    String ip() {
      return ((InetSocketAddress) server.localAddress()).getAddress().getHostAddress();
    }

    int port() {
      return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
      server.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
