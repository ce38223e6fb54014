package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.RawH2.Frame;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
  static StallServer stall;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    stall = new StallServer("127.0.83.2");
    port = Ports.free(IP);
    String yaml =
        """
        static_resources:
          listeners:
          - name: window
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            per_connection_buffer_limit_bytes: 16384
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: window
                  codec_type: HTTP2
                  http2_protocol_options:
                    initial_stream_window_size: 65535
                    initial_connection_window_size: 1048576
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %3$s
                      log_format: {text_format_source: {inline_string: "%4$s"}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /direct}, direct_response: {status: 200, body: {inline_string: direct}}}
                      - {match: {prefix: /}, route: {cluster: stall, timeout: 60s}}
          clusters:
          - name: stall
            connect_timeout: 60s
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
            load_assignment:
              cluster_name: stall
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.83.2, port_value: %5$d}}}}]}]
        """
            .formatted(IP, port, dir.resolve("access.log"), FORMAT, stall.port());
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("window.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    stall.close();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static List<String> log() throws Exception {
    Path log = dir.resolve("access.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  @Test
  void aStreamWindowOverrunResetsOnlyThatStreamWithFlowControlError() throws Exception {
    long txReset = stat("http2.tx_reset");
    long rxReset = stat("http.window.downstream_rq_rx_reset");
    byte[] piece = new byte[16_384];
    try (RawH2 c = new RawH2(IP, port).preface().handshake()) {
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
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> log().contains("POST /upload HTTP/2 0 DR http2.remote_reset"));
    // at least ours (DATA still on its way may draw a STREAM_CLOSED reset after it)
    assertThat(stat("http2.tx_reset")).isGreaterThan(txReset);
    assertThat(stat("http.window.downstream_rq_rx_reset")).isEqualTo(rxReset + 1);
  }
}
