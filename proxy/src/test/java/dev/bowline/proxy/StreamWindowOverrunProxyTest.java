package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.RawH2.Frame;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends past its HTTP/2 stream window, as Envoy answers it: RST_STREAM
 * FLOW_CONTROL_ERROR on that stream only (before, the proxy's stream channel closed it with
 * CANCEL), counted in {@code http2.tx_reset}, and the stream logged as Envoy's connection manager
 * logs a stream its codec closed with an error code ({@code DR}, {@code http2.remote_reset}); the
 * connection goes on. The stream's body is held (its upstream connection never comes up, and the
 * listener's buffer limit of 16 KiB stops reading it after 32 KiB), so at most that much of its
 * window is given back while the client sends 128 KiB into 65,535 bytes.
 */
class StreamWindowOverrunProxyTest {
  static final String IP = "127.0.83.1";
  static final String FORMAT =
      "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS%"
          + " %RESPONSE_CODE_DETAILS%\\n";
  static final int FLOW_CONTROL_ERROR = 3;

  @TempDir static Path dir;
  static ScriptedBackend stall;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    stall = ScriptedBackend.stall("127.0.83.2");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.withFields(
                    SocketProxy.listener(
                        "window",
                        IP,
                        port,
                        """
                        codec_type: HTTP2
                        http2_protocol_options:
                          initial_stream_window_size: 65535
                          initial_connection_window_size: 1048576
                        """
                            + SocketProxy.accessLog(dir.resolve("access.log"), FORMAT),
                        "{match: {prefix: /direct}, direct_response: {status: 200, body:"
                            + " {inline_string: direct}}}",
                        "{match: {prefix: /}, route: {cluster: stall, timeout: 60s}}"),
                    "per_connection_buffer_limit_bytes: 16384")),
            List.of(
                SocketProxy.cluster(
                    "stall",
                    stall.ip(),
                    stall.port(),
                    """
                    connect_timeout: 60s
                    transport_socket:
                      name: envoy.transport_sockets.tls
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext""")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    stall.close();
  }

  @Test
  void aStreamWindowOverrunResetsOnlyThatStreamWithFlowControlError() throws Exception {
    long txReset = proxy.stat("http2.tx_reset");
    long rxReset = proxy.stat("http.window.downstream_rq_rx_reset");
    byte[] piece = new byte[16_384];
    try (RawH2 c = proxy.h2(port)) {
      c.frames(
          (w, ctx) -> {
            w.writeHeaders(
                ctx,
                1,
                RawH2.request("POST", "/upload")
                    .add("content-length", String.valueOf(8 * piece.length)),
                0,
                false,
                ctx.newPromise());
            for (int i = 0; i < 8; i++) {
              w.writeData(ctx, 1, Unpooled.wrappedBuffer(piece), 0, i == 7, ctx.newPromise());
            }
          });
      Frame reset = c.readUntil(RawH2.RST_STREAM);
      assertThat(reset).isNotNull();
      assertThat(reset.stream()).isEqualTo(1);
      assertThat(reset.errorCode()).isEqualTo(FLOW_CONTROL_ERROR);

      // the connection goes on: a new stream is served
      c.get(3, "/direct", true);
      Frame answer = c.readUntil(RawH2.HEADERS);
      assertThat(answer).isNotNull();
      assertThat(answer.stream()).isEqualTo(3);
      assertThat(answer.headers().status().toString()).isEqualTo("200");
    }
    SocketProxy.awaitLogLine(
        dir.resolve("access.log"), "POST /upload HTTP/2 0 DR http2.remote_reset");
    // at least ours (DATA still on its way may draw a STREAM_CLOSED reset after it)
    assertThat(proxy.stat("http2.tx_reset")).isGreaterThan(txReset);
    assertThat(proxy.stat("http.window.downstream_rq_rx_reset")).isEqualTo(rxReset + 1);
  }
}
