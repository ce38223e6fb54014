package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.H2Client.Outcome;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
import org.junit.jupiter.api.io.TempDir;

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

  @TempDir Path dir;
  Backend backend;
  SocketProxy proxy;
  int port;
  H2Client client;
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
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "small",
                    IP,
                    port,
                    """
                    codec_type: HTTP2
                    http2_protocol_options:
                      initial_stream_window_size: 65535
                      initial_connection_window_size: 65535
                    """
                        + SocketProxy.accessLog(dir.resolve("access.log"), "%REQ(:PATH)%\\n"),
                    SocketProxy.to("/", "a"))),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
    client = new H2Client();
  }

  @AfterEach
  void stop() {
    client.close();
    proxy.close();
    backend.close();
    netty.removeHandler(capture);
  }

  Channel connect() throws Exception {
    return client.connect(IP, port);
  }

  static final String PIECE = "x".repeat(16 * 1024);

  @Test
  void concurrentUploadsAResetStreamAndADroppedConnectionReturnEachByteOnce() throws Exception {
    // four 1 MiB uploads at once, each echoed whole, through 64 KiB windows
    Channel conn = connect();
    List<CompletableFuture<Outcome>> uploads = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      uploads.add(H2Client.upload(conn, "/echo", PIECE, 64, 0));
    }
    // a fifth reset by the client after 160 KiB, while the others run
    CompletableFuture<Http2StreamChannel> reset = new CompletableFuture<>();
    new Http2StreamChannelBootstrap(conn)
        .handler(new ChannelInboundHandlerAdapter())
        .open()
        .addListener(
            f -> {
              Http2StreamChannel s = (Http2StreamChannel) f.getNow();
              s.write(new DefaultHttp2HeadersFrame(RawH2.request("POST", "/echo")));
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
    H2Client.upload(dropped, "/echo", PIECE, 64, 0);
    H2Client.upload(dropped, "/echo", PIECE, 64, 0);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> proxy.stat("http.small.downstream_rq_total") >= 7);
    Thread.sleep(200); // some of their bytes read, not all: the windows are 64 KiB
    dropped.close().sync();
    // the proxy saw the close and ended the two streams: all seven are in the access log
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> SocketProxy.logLines(dir.resolve("access.log")).size() >= 7);

    assertThat(tooMany).as("flow-control bytes returned twice").isEmpty();
  }
}
