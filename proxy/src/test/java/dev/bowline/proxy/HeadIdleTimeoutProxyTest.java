package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request head that begins and never ends is a stream whose {@code stream_idle_timeout} runs, as
 * Envoy's HTTP/1 codec makes the stream at a message's first byte: 408 {@code stream timeout},
 * {@code connection: close}, logged {@code SI stream_idle_timeout}, counted as an idle timeout, and
 * the connection closed (a slowloris head no longer holds a connection for ever). A connection that
 * is idle between requests is not a stream and stays open, and a head finished in time is served.
 */
class HeadIdleTimeoutProxyTest {
  static final String IP = "127.0.77.1";
  static final String BACKEND_IP = "127.0.77.2";
  @TempDir static Path dir;
  static Backend backend;
  static Proxy proxy;
  static int port;
  static Path log;

  @BeforeAll
  static void start() {
    backend = new Backend("a", BACKEND_IP);
    log = dir.resolve("access.log");
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "in",
                "stream_idle_timeout: 1s\n"
                    + SocketProxy.accessLog(
                        log,
                        "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n"),
                SocketProxy.to("/", "a"))
            .cluster("a", backend.ip(), backend.port())
            .start();
    proxy = socket.proxy;
    port = socket.port("in");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals(name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static void send(OutputStream out, String s) throws Exception {
    out.write(s.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Test
  void aHeadThatNeverEndsIsAnswered408AndClosed() throws Exception {
    long idleBefore = stat("http.in.downstream_rq_idle_timeout");
    long protocolErrorsBefore = stat("http.in.downstream_cx_protocol_error");
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(60_000);
      // a request served first: the head that follows begins on a used keep-alive connection
      send(s.getOutputStream(), "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream())).contains("path=/first");
      // then the start of a head, in two reads, and nothing more
      send(s.getOutputStream(), "GET /never HTTP/1.1\r\n");
      send(s.getOutputStream(), "Host: x\r\nX-Slow: ");
      InputStream in = s.getInputStream();
      String reply = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(reply)
          .startsWith("HTTP/1.1 408 Request Timeout\r\n")
          .contains("connection: close")
          .endsWith("stream timeout");
    }
    assertThat(stat("http.in.downstream_rq_idle_timeout")).isEqualTo(idleBefore + 1);
    assertThat(stat("http.in.downstream_cx_protocol_error")).isEqualTo(protocolErrorsBefore);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(Files.readString(log)).contains("- 408 SI stream_idle_timeout\n"));
  }

  @Test
  void anIdleConnectionBetweenRequestsStaysOpenAndALateHeadInTimeIsServed() throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      send(out, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream())).contains("path=/one");
      // idle for more than the stream idle timeout with no head begun: no stream, nothing to time
      // out (Envoy closes such a connection only after the connection idle_timeout, 1 h)
      await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).until(() -> true);
      // a head begun after that idle time has its own second: sent whole at once, it is served
      send(out, "GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(BadInputTest.readResponse(s.getInputStream())).contains("path=/two");
    }
  }
}
