package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's duration limits. {@code common_http_protocol_options.max_stream_duration} of the
 * connection manager (Envoy's {@code onStreamMaxDurationReached}): a stream that old is answered
 * {@code downstream duration timeout}, 504 when its request is whole, 408 while the request is
 * still arriving, or reset once its response began; details {@code max_duration_timeout}, counter
 * {@code downstream_rq_max_duration_reached}. {@code tcp_proxy}'s {@code
 * max_downstream_connection_duration}: the connection is closed, counted in {@code
 * tcp.<prefix>.max_downstream_connection_duration}, its session flagged {@code DT}. Raw sockets.
 */
class StreamDurationProxyTest {
  static final String IP = "127.0.84.1";
  static final String FORMAT =
      "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";

  @TempDir static Path dir;
  static ScriptedBackend backend;
  static ScriptedBackend tcpBackend;
  static SocketProxy proxy;
  static int httpPort;
  static int tcpPort;

  @BeforeAll
  static void start() throws Exception {
    backend =
        new ScriptedBackend(
            "127.0.84.2",
            (path, out) -> {
              switch (path) {
                case "/free" -> {
                  Thread.sleep(1_500); // past the connection manager's 1 s
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nfree");
                }
                case "/short" -> {
                  Thread.sleep(700); // within the connection manager's 1 s, past the route's
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nshort");
                }
                case "/upload" -> {
                  Thread.sleep(5_000); // waits for a body that never comes whole
                  return false;
                }
                case "/slow" -> {
                  Thread.sleep(3_000);
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                }
                case "/drip" -> {
                  ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n");
                  for (int i = 0; i < 12; i++) {
                    Thread.sleep(250);
                    ScriptedBackend.write(out, "d");
                  }
                }
                default ->
                    ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
              }
              return true;
            });
    tcpBackend = ScriptedBackend.stall("127.0.84.3");
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "msd",
                    IP,
                    httpPort,
                    "common_http_protocol_options: {max_stream_duration: 1s}\n"
                        + SocketProxy.accessLog(dir.resolve("access.log"), FORMAT),
                    "{match: {prefix: /free}, route: {cluster: b, timeout: 30s,"
                        + " max_stream_duration: {max_stream_duration: 0s}}}",
                    "{match: {prefix: /short}, route: {cluster: b, timeout: 30s,"
                        + " max_stream_duration: {max_stream_duration: 0.3s}}}",
                    "{match: {prefix: /}, route: {cluster: b, timeout: 30s}}"),
                SocketProxy.tcpListener(
                    "dur", IP, tcpPort, "t", "max_downstream_connection_duration: 0.5s")),
            List.of(
                SocketProxy.cluster("b", backend.ip(), backend.port(), ""),
                SocketProxy.cluster("t", tcpBackend.ip(), tcpBackend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
    tcpBackend.close();
  }

  static void awaitLogLine(String line) {
    SocketProxy.awaitLogLine(dir.resolve("access.log"), line);
  }

  static Socket send(String request) throws Exception {
    return proxy.h1(httpPort, request);
  }

  @Test
  void aWholeRequestWhoseResponseIsLateGets504() throws Exception {
    long reached = proxy.stat("http.msd.downstream_rq_max_duration_reached");
    try (Socket s = send("GET /slow HTTP/1.1\r\nHost: t\r\nconnection: close\r\n\r\n")) {
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 504 ").endsWith("downstream duration timeout");
    }
    awaitLogLine("GET /slow 504 - max_duration_timeout");
    assertThat(proxy.stat("http.msd.downstream_rq_max_duration_reached")).isEqualTo(reached + 1);
  }

  @Test
  void aRoutesMaxStreamDurationReplacesTheConnectionManagers() throws Exception {
    // zero on the route: no limit for its streams
    try (Socket s = send("GET /free HTTP/1.1\r\nHost: t\r\nconnection: close\r\n\r\n")) {
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("free");
    }
    // shorter on the route: it applies (the connection manager's would let this answer through)
    try (Socket s = send("GET /short HTTP/1.1\r\nHost: t\r\nconnection: close\r\n\r\n")) {
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 504 ").endsWith("downstream duration timeout");
    }
    awaitLogLine("GET /short 504 - max_duration_timeout");
  }

  @Test
  void aRequestStillArrivingGets408() throws Exception {
    // the head promises ten bytes of body, five come
    try (Socket s = send("POST /upload HTTP/1.1\r\nHost: t\r\ncontent-length: 10\r\n\r\nhello")) {
      String response = SocketProxy.head(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 408 ");
    }
    awaitLogLine("POST /upload 408 - max_duration_timeout");
  }

  @Test
  void aStreamWhoseResponseBeganIsReset() throws Exception {
    try (Socket s = send("GET /drip HTTP/1.1\r\nHost: t\r\n\r\n")) {
      InputStream in = s.getInputStream();
      assertThat(SocketProxy.head(in)).startsWith("HTTP/1.1 200 ");
      // a second later the stream is reset: the connection ends before the twelve bytes
      byte[] body = in.readNBytes(12);
      assertThat(body.length).isLessThan(12);
    }
    awaitLogLine("GET /drip 200 - max_duration_timeout");
  }

  @Test
  void aTcpConnectionPastItsMaxDurationIsClosedWithDt() throws Exception {
    try (Socket s = new Socket(IP, tcpPort)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertThat(s.getInputStream().read()).isEqualTo(-1); // closed by the proxy at 0.5 s
    }
    assertThat(proxy.stat("tcp.dur.max_downstream_connection_duration")).isEqualTo(1);
    // the upstream connection goes with it
    await().atMost(Duration.ofSeconds(20)).until(() -> tcpBackend.closedByPeer.get() == 1);
  }
}
