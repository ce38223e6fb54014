package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection manager's {@code request_headers_timeout} (off by default), as Envoy's {@code
 * onRequestHeaderTimeout}: an HTTP/1 request head not whole that long after its first byte is
 * answered 408 {@code request header timeout} with {@code connection: close}, logged with details
 * {@code request_header_timeout} (no response flag), counted in {@code
 * downstream_rq_header_timeout}; bytes trickling in do not extend it (a slowloris head, which the
 * stream idle timeout never ends). A head whole in time is served, and a connection idle between
 * requests has no head under way.
 */
class RequestHeadersTimeoutProxyTest {
  static final String IP = "127.0.7.62";
  static final String FORMAT =
      "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";
  @TempDir static Path dir;
  static NettyBackend h1;
  static SocketProxy proxy;
  static int port;
  static Path log;

  @BeforeAll
  static void start() throws Exception {
    h1 = new NettyBackend("h1", "127.0.7.63");
    log = dir.resolve("access.log");
    proxy =
        SocketProxy.on(IP)
            .http(
                "hd",
                "request_headers_timeout: 1s\n" + SocketProxy.accessLog(log, FORMAT),
                SocketProxy.to("/", "h1"))
            .cluster("h1", h1.ip(), h1.port())
            .start();
    port = proxy.port("hd");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    h1.close();
  }

  static void send(OutputStream out, String text) throws Exception {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Test
  void aHeadTricklingInIsAnswered408AtTheTimeout() throws Exception {
    long before = proxy.stat("http.hd.downstream_rq_header_timeout");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(60_000);
      s.setTcpNoDelay(true);
      OutputStream out = s.getOutputStream();
      send(out, "GET /first HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      send(out, "GET /slow HTTP/1.1\r\nHost: t\r\nX-Slow: ");
      // a byte every 200 ms: never idle, never whole
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 600; i++) {
                        send(out, "a");
                        Thread.sleep(200);
                      }
                    } catch (Exception closed) {
                      // the proxy answered and closed
                    }
                  });
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      writer.interrupt();
      assertThat(reply)
          .startsWith("HTTP/1.1 408 Request Timeout\r\n")
          .containsIgnoringCase("\r\nconnection: close\r\n")
          .endsWith("request header timeout");
    }
    assertThat(proxy.stat("http.hd.downstream_rq_header_timeout")).isEqualTo(before + 1);
    SocketProxy.awaitLogLine(log, "- 408 - request_header_timeout");
  }

  @Test
  void headsWholeInTimeAreServedAndAnIdleConnectionHasNoHead() throws Exception {
    long before = proxy.stat("http.hd.downstream_rq_header_timeout");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      send(out, "GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream())).startsWith("HTTP/1.1 200");
      // idle for over the timeout with no head begun
      await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).until(() -> true);
      send(out, "GET /two HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(SocketProxy.response(s.getInputStream()))
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
    }
    assertThat(proxy.stat("http.hd.downstream_rq_header_timeout")).isEqualTo(before);
  }
}
