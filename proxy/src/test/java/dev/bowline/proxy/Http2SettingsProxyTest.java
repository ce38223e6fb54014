package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code http2_protocol_options} on the wire, with Envoy's defaults: the
 * SETTINGS a raw client receives (stream window 256 MiB, max concurrent streams 2^31-1), the
 * WINDOW_UPDATE that raises the connection window to 256 MiB, and an upload of 1 MiB sent without
 * waiting for any WINDOW_UPDATE, which those windows allow; configured to HTTP/2's own 65,535
 * bytes, 80 KiB sent the same way is a flow-control error. Upstream HTTP/2 connections open with
 * the cluster's windows (Envoy's defaults, or its {@code http2_protocol_options}).
 */
class Http2SettingsProxyTest {
  static final String IP = "127.0.38.1";
  static Backend backend;
  static SocketProxy proxy;
  static int defaults;
  static int small;
  static java.net.ServerSocket upDefault;
  static java.net.ServerSocket upSet;

  static String listener(String name, int port, String h2Options) {
    return SocketProxy.listener(
        name,
        IP,
        port,
        "codec_type: HTTP2\nhttp2_protocol_options: " + h2Options,
        SocketProxy.to("/up-default", "h2default"),
        SocketProxy.to("/up-set", "h2set"),
        SocketProxy.to("/", "a"));
  }

  @BeforeAll
  static void start() throws Exception {
    upDefault = new java.net.ServerSocket(0, 8, java.net.InetAddress.getByName("127.0.38.3"));
    upSet = new java.net.ServerSocket(0, 8, java.net.InetAddress.getByName("127.0.38.4"));
    backend = new Backend("a", "127.0.38.2");
    defaults = Ports.free(IP);
    small = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                listener("defaults", defaults, "{}"),
                listener(
                    "small",
                    small,
                    "{initial_stream_window_size: 65535, initial_connection_window_size: 65535,"
                        + " max_concurrent_streams: 100}")),
            List.of(
                SocketProxy.cluster("a", backend.ip(), backend.port(), ""),
                SocketProxy.cluster(
                    "h2default",
                    "127.0.38.3",
                    upDefault.getLocalPort(),
                    "http2_protocol_options: {}"),
                SocketProxy.cluster(
                    "h2set",
                    "127.0.38.4",
                    upSet.getLocalPort(),
                    SocketProxy.httpProtocolOptions(
                        """
                        explicit_http_config:
                          http2_protocol_options: {initial_stream_window_size: 1048576, initial_connection_window_size: 2097152}"""))));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    upDefault.close();
    upSet.close();
  }

  /** What the proxy opens a connection with: its SETTINGS and its WINDOW_UPDATEs on stream 0. */
  record Opening(Map<Integer, Long> settings, long connectionWindowIncrement) {}

  /** What a raw client reads of the proxy's opening, up to the ACK of its own SETTINGS. */
  static Opening opening(int port) throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      return new Opening(c.peerSettings(), c.connectionWindowIncrements());
    }
  }

  /** What the proxy opens an upstream HTTP/2 connection with, seen by a raw backend. */
  static Opening upstreamOpening(java.net.ServerSocket backend, String path) throws Exception {
    var request =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              try (RawH2 c = proxy.h2(defaults)) {
                c.get(1, path, true).read(); // the answer (503 once the backend hangs up)
              } catch (Exception e) {
                // the answer does not matter here
              }
            });
    // the server's preface (an empty SETTINGS): the proxy starts no stream before it. Netty's
    // client codec lets a waiting stream's HEADERS out with its preface, maybe before the
    // connection's WINDOW_UPDATE.
    try (RawH2 up = RawH2.accept(backend)) {
      Frame f;
      while ((f = up.read()) != null && f.type() != RawH2.HEADERS) {
        // SETTINGS and WINDOW_UPDATE are taken on the way
      }
      up.awaitConnectionWindow();
      return new Opening(up.peerSettings(), up.connectionWindowIncrements());
    } finally {
      request.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void upstreamConnectionsUseTheClustersWindowsWithEnvoysDefaults() throws Exception {
    Opening d = upstreamOpening(upDefault, "/up-default");
    assertThat(d.settings()).containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 256L * 1024 * 1024);
    // no server push, as Envoy's client codec announces
    assertThat(d.settings()).containsEntry(SETTINGS_ENABLE_PUSH, 0L);
    assertThat(d.connectionWindowIncrement()).isEqualTo(256L * 1024 * 1024 - 65_535);
    Opening set = upstreamOpening(upSet, "/up-set");
    assertThat(set.settings()).containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 1_048_576L);
    assertThat(set.connectionWindowIncrement()).isEqualTo(2_097_152L - 65_535);
  }

  static final int SETTINGS_ENABLE_PUSH = 2;
  static final int SETTINGS_MAX_CONCURRENT_STREAMS = 3;
  static final int SETTINGS_INITIAL_WINDOW_SIZE = 4;

  @Test
  void envoysDefaultsAreAnnouncedAndTheConnectionWindowRaised() throws Exception {
    Opening o = opening(defaults);
    assertThat(o.settings())
        .containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 256L * 1024 * 1024)
        .containsEntry(SETTINGS_MAX_CONCURRENT_STREAMS, 2_147_483_647L);
    assertThat(o.connectionWindowIncrement()).isEqualTo(256L * 1024 * 1024 - 65_535);
  }

  @Test
  void configuredWindowsAreAnnouncedAsConfigured() throws Exception {
    Opening o = opening(small);
    assertThat(o.settings())
        .containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 65_535L)
        .containsEntry(SETTINGS_MAX_CONCURRENT_STREAMS, 100L);
    assertThat(o.connectionWindowIncrement()).isZero();
  }

  /**
   * Sends a POST of {@code pieces} 16 KiB DATA frames at once, never waiting for window; the frame
   * answering it.
   */
  static Frame uploadWithoutWaiting(int port, int pieces) throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      byte[] piece = new byte[16 * 1024];
      c.frames(
          (w, ctx) -> {
            w.writeHeaders(
                ctx,
                1,
                new DefaultHttp2Headers()
                    .method("POST")
                    .path("/upload")
                    .scheme("http")
                    .authority("t")
                    .add("content-length", String.valueOf(pieces * piece.length)),
                0,
                false,
                ctx.newPromise());
            for (int i = 0; i < pieces; i++) {
              w.writeData(
                  ctx, 1, Unpooled.wrappedBuffer(piece), 0, i == pieces - 1, ctx.newPromise());
            }
          });
      Frame f;
      while ((f = c.read()) != null
          && f.type() != RawH2.HEADERS
          && f.type() != RawH2.RST_STREAM
          && f.type() != RawH2.GOAWAY) {
        // skip
      }
      return f;
    }
  }

  @Test
  void aMebibyteUploadFitsEnvoysWindowsWithoutAnyWindowUpdate() throws Exception {
    Frame f = uploadWithoutWaiting(defaults, 64); // 1 MiB
    assertThat(f).isNotNull();
    assertThat(f.type()).isEqualTo(RawH2.HEADERS);
    assertThat(f.headers().status().toString()).isEqualTo("200");
  }

  @Test
  void anUploadPastHttp2sOwnWindowIsAFlowControlError() throws Exception {
    Frame f = uploadWithoutWaiting(small, 5); // 80 KiB > 65,535
    assertThat(f).isNotNull();
    assertThat(f.type()).isIn(RawH2.RST_STREAM, RawH2.GOAWAY);
    assertThat(f.errorCode()).isEqualTo(3); // FLOW_CONTROL_ERROR
  }
}
