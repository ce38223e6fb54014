package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.io.DataInputStream;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code http2_protocol_options} on the wire, with Envoy's defaults: the
 * SETTINGS a raw client receives (stream window 256 MiB, max concurrent streams 2^31-1), the
 * WINDOW_UPDATE that raises the connection window to 256 MiB, and an upload of 1 MiB sent without
 * waiting for any WINDOW_UPDATE, which those windows allow; configured to HTTP/2's own 65,535
 * bytes, 80 KiB sent the same way is a flow-control error.
 */
class Http2SettingsProxyTest {
  static final String IP = "127.0.38.1";
  static Backend backend;
  static Proxy proxy;
  static int defaults;
  static int small;

  static String listener(String name, int port, String h2Options) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
                  codec_type: HTTP2
                  http2_protocol_options: %4$s
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}
        """
        .formatted(name, IP, port, h2Options);
  }

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.38.2");
    defaults = Ports.free(IP);
    small = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
        %s
        %s
          clusters:
          - name: a
            load_assignment:
              cluster_name: a
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(
                listener("defaults", defaults, "{}"),
                listener(
                    "small",
                    small,
                    "{initial_stream_window_size: 65535, initial_connection_window_size: 65535,"
                        + " max_concurrent_streams: 100}"),
                backend.ip(),
                backend.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("h2.yaml", yaml), ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  /** What the proxy opens a connection with: its SETTINGS and its WINDOW_UPDATEs on stream 0. */
  record Opening(Map<Integer, Long> settings, long connectionWindowIncrement) {}

  /** Sends the preface and an empty SETTINGS; reads frames until the proxy acknowledges it. */
  static Opening opening(int port) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf()));
      s.getOutputStream().write(new byte[] {0, 0, 0, RawH2.SETTINGS, 0, 0, 0, 0, 0});
      DataInputStream in = new DataInputStream(s.getInputStream());
      Map<Integer, Long> settings = new HashMap<>();
      long increment = 0;
      while (true) {
        int len = in.readUnsignedByte() << 16 | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] p = new byte[len];
        in.readFully(p);
        var b = java.nio.ByteBuffer.wrap(p);
        if (type == RawH2.SETTINGS && (flags & 1) == 0) {
          while (b.remaining() >= 6) {
            settings.put(b.getShort() & 0xffff, Integer.toUnsignedLong(b.getInt()));
          }
        } else if (type == 8 && stream == 0) {
          increment += b.getInt() & 0x7fffffff;
        } else if (type == RawH2.SETTINGS) {
          return new Opening(settings, increment); // our SETTINGS acknowledged
        }
      }
    }
  }

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
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
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
