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
 * bytes, 80 KiB sent the same way is a flow-control error. Upstream HTTP/2 connections open with
 * the cluster's windows (Envoy's defaults, or its {@code http2_protocol_options}).
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
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /up-default}, route: {cluster: h2default}}
                      - {match: {prefix: /up-set}, route: {cluster: h2set}}
                      - {match: {prefix: /}, route: {cluster: a}}
        """
        .formatted(name, IP, port, h2Options);
  }

  static java.net.ServerSocket upDefault;
  static java.net.ServerSocket upSet;

  @BeforeAll
  static void start() throws Exception {
    upDefault = new java.net.ServerSocket(0, 8, java.net.InetAddress.getByName("127.0.38.3"));
    upSet = new java.net.ServerSocket(0, 8, java.net.InetAddress.getByName("127.0.38.4"));
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
          - name: h2default
            http2_protocol_options: {}
            load_assignment:
              cluster_name: h2default
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.38.3, port_value: %d}}}}]}]
          - name: h2set
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config:
                  http2_protocol_options: {initial_stream_window_size: 1048576, initial_connection_window_size: 2097152}
            load_assignment:
              cluster_name: h2set
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.38.4, port_value: %d}}}}]}]
        """
            .formatted(
                listener("defaults", defaults, "{}"),
                listener(
                    "small",
                    small,
                    "{initial_stream_window_size: 65535, initial_connection_window_size: 65535,"
                        + " max_concurrent_streams: 100}"),
                backend.ip(),
                backend.port(),
                upDefault.getLocalPort(),
                upSet.getLocalPort());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("h2.yaml", yaml), ProxyOptions.defaults().withWorkers(1));
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

  /** Sends the preface and an empty SETTINGS; reads frames until the proxy acknowledges it. */
  static Opening opening(int port) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf()));
      s.getOutputStream().write(new byte[] {0, 0, 0, RawH2.SETTINGS, 0, 0, 0, 0, 0});
      return frames(new DataInputStream(s.getInputStream()), RawH2.SETTINGS);
    }
  }

  /**
   * Reads frames, collecting SETTINGS and WINDOW_UPDATEs on stream 0, until a frame of {@code
   * until} that is no SETTINGS announcement (an ACK, or HEADERS) arrives.
   */
  static Opening frames(DataInputStream in, int until) throws Exception {
    return frames(in, until, false);
  }

  /**
   * As {@link #frames(DataInputStream, int)}; with {@code andWindow}, goes on past {@code until}
   * until a WINDOW_UPDATE on stream 0 came too (Netty's client codec lets a waiting stream's
   * HEADERS out with its preface, before the window update).
   */
  static Opening frames(DataInputStream in, int until, boolean andWindow) throws Exception {
    boolean seen = false;
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
      } else if (type == until) {
        seen = true; // our SETTINGS acknowledged, or a request
      }
      if (seen && (!andWindow || increment > 0)) {
        return new Opening(settings, increment);
      }
    }
  }

  /** What the proxy opens an upstream HTTP/2 connection with, seen by a raw backend. */
  static Opening upstreamOpening(java.net.ServerSocket backend, String path) throws Exception {
    var request =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              try (RawH2 c = new RawH2(IP, defaults).preface().handshake()) {
                c.get(1, path, true).read(); // the answer (503 once the backend hangs up)
              } catch (Exception e) {
                // the answer does not matter here
              }
            });
    try (Socket s = backend.accept()) {
      s.setSoTimeout(5000);
      // the server's preface (an empty SETTINGS): the proxy starts no stream before it
      s.getOutputStream().write(new byte[] {0, 0, 0, RawH2.SETTINGS, 0, 0, 0, 0, 0});
      DataInputStream in = new DataInputStream(s.getInputStream());
      in.readFully(new byte[24]); // the client preface
      return frames(in, RawH2.HEADERS, true);
    } finally {
      request.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void upstreamConnectionsUseTheClustersWindowsWithEnvoysDefaults() throws Exception {
    Opening d = upstreamOpening(upDefault, "/up-default");
    assertThat(d.settings()).containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 256L * 1024 * 1024);
    assertThat(d.connectionWindowIncrement()).isEqualTo(256L * 1024 * 1024 - 65_535);
    Opening set = upstreamOpening(upSet, "/up-set");
    assertThat(set.settings()).containsEntry(SETTINGS_INITIAL_WINDOW_SIZE, 1_048_576L);
    assertThat(set.connectionWindowIncrement()).isEqualTo(2_097_152L - 65_535);
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
