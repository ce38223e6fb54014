package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.Http2DrainProxyTest.Outcome;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The downstream HTTP/2 flow-control bookkeeping over real sockets, with HTTP/2's own 65,535-byte
 * windows so that every upload turns on WINDOW_UPDATEs: the bytes a stream's child channel reads
 * are returned to the stream and connection windows once, whether the stream completes, the client
 * resets it mid-upload, or the client drops the whole connection with uploads unread. Netty logs
 * "Attempting to return too many bytes" (SEVERE, from the connection's close) when a connection
 * window gets more back than it gave; {@code Http2SettingsProxyTest}'s upload past the connection
 * window provokes that in Netty's own decoder (decision 0004, drain addendum), and none of these
 * flows, which are ours, may.
 */
class Http2FlowControlAccountingTest {
  static final String IP = "127.0.76.41";
  static final String BACKEND_IP = "127.0.76.42";

  Backend backend;
  Proxy proxy;
  int port;
  MultiThreadIoEventLoopGroup group;
  final List<String> tooMany = new CopyOnWriteArrayList<>();
  final Logger netty = Logger.getLogger("io.netty.handler.codec.http2");
  final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          String text = r.getMessage() + " " + r.getThrown();
          if (text.contains("too many bytes")) {
            tooMany.add(r.getLoggerName() + ": " + text);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void start() {
    netty.addHandler(capture);
    backend = new Backend("a", BACKEND_IP);
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: small
            address: {socket_address: {address: %s, port_value: %d}}
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: small
                  codec_type: HTTP2
                  http2_protocol_options: {initial_stream_window_size: 65535, initial_connection_window_size: 65535}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}
          clusters:
          - name: a
            load_assignment:
              cluster_name: a
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(IP, port, backend.ip(), backend.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("fc.yaml", yaml), ProxyOptions.defaults().withWorkers(1));
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    proxy.close();
    backend.close();
    netty.removeHandler(capture);
  }

  Channel connect() throws Exception {
    return new Bootstrap()
        .group(group)
        .channel(NioSocketChannel.class)
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                ch.pipeline()
                    .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
              }
            })
        .connect(IP, port)
        .sync()
        .channel();
  }

  static final String PIECE = "x".repeat(16 * 1024);

  @Test
  void concurrentUploadsAResetStreamAndADroppedConnectionReturnEachByteOnce() throws Exception {
    // four 1 MiB uploads at once, each echoed whole, through 64 KiB windows
    Channel conn = connect();
    List<CompletableFuture<Outcome>> uploads = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      uploads.add(Http2DrainProxyTest.stream(conn, "/echo", PIECE, 64, 0));
    }
    // a fifth reset by the client after 160 KiB, while the others run
    CompletableFuture<Http2StreamChannel> reset = new CompletableFuture<>();
    new Http2StreamChannelBootstrap(conn)
        .handler(new ChannelInboundHandlerAdapter())
        .open()
        .addListener(
            f -> {
              Http2StreamChannel s = (Http2StreamChannel) f.getNow();
              s.write(new DefaultHttp2HeadersFrame(Http2DrainProxyTest.post("/echo")));
              for (int i = 0; i < 10; i++) {
                s.write(
                    new DefaultHttp2DataFrame(
                        Unpooled.copiedBuffer(PIECE, StandardCharsets.US_ASCII), false));
              }
              s.flush();
              reset.complete(s);
            });
    reset
        .get(10, TimeUnit.SECONDS)
        .eventLoop()
        .schedule(() -> reset.join().close(), 100, TimeUnit.MILLISECONDS);
    for (var u : uploads) {
      Outcome o = u.get(60, TimeUnit.SECONDS);
      assertThat(o.status()).as("upload %s", o.stream()).isEqualTo("200");
      assertThat(o.body()).as("upload %s", o.stream()).hasSize(64 * PIECE.length());
    }
    conn.close().sync();

    // then a connection dropped by the client with two uploads half read by the proxy
    Channel dropped = connect();
    Http2DrainProxyTest.stream(dropped, "/echo", PIECE, 64, 0);
    Http2DrainProxyTest.stream(dropped, "/echo", PIECE, 64, 0);
    Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(
            () ->
                proxy.stats().all().stream()
                        .filter(x -> x.name().equals("http.small.downstream_rq_total"))
                        .mapToLong(x -> x.value())
                        .sum()
                    >= 7);
    Thread.sleep(200); // some of their bytes read, not all: the windows are 64 KiB
    dropped.close().sync();
    Thread.sleep(500); // the proxy sees the close and closes the streams

    assertThat(tooMany).as("flow-control bytes returned twice").isEmpty();
  }
}
