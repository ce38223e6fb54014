package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Malformed HTTP/1.1 gets Envoy's status codes and never disturbs other connections. */
class BadInputTest {
  static final String IP = "127.0.6.20";
  static Backend backend;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.6.21");
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "in",
                """
                max_request_headers_kb: 4
                request_timeout: 0.3s""",
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

  /** Sends {@code raw} and reads until the proxy closes the connection. */
  static String exchange(String raw) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void malformedRequestLineIs400AndCloses() throws Exception {
    String reply = exchange("GARBAGE\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close");
  }

  @Test
  void oversizedHeadersAre431() throws Exception {
    String reply = exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(8000) + "\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
  }

  @Test
  void invalidChunkingIs400() throws Exception {
    String reply =
        exchange(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n");
    assertThat(reply).contains("HTTP/1.1 400");
  }

  @Test
  void aBadClientDoesNotDisturbAnotherConnection() throws Exception {
    try (Socket good = new Socket(IP, port)) {
      good.setSoTimeout(5000);
      OutputStream out = good.getOutputStream();
      InputStream in = good.getInputStream();
      out.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(in)).contains("path=/one");
      assertThat(exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(8000) + "\r\n\r\n"))
          .startsWith("HTTP/1.1 431");
      assertThat(exchange("\u0001\u0002 nonsense\r\n\r\n")).startsWith("HTTP/1.1 400");
      assertThat(
              exchange(
                  "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n"))
          .contains("HTTP/1.1 400");
      assertThat(exchange("GET /\u0001x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
          .startsWith("HTTP/1.1 400");
      out.write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(in)).contains("path=/two");
    }
  }

  /** Reads one response with a content-length body. */
  static String readResponse(InputStream in) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int length = -1;
    while (true) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      buf.write(c);
      String sofar = buf.toString(StandardCharsets.ISO_8859_1);
      if (length < 0 && sofar.endsWith("\r\n\r\n")) {
        var m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(sofar);
        length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        buf.write(in.readNBytes(length));
        return buf.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return buf.toString(StandardCharsets.ISO_8859_1);
  }

  @Test
  void aRequestThatNeverCompletesGets408() throws Exception {
    String reply = exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    assertThat(reply).startsWith("HTTP/1.1 408 Request Timeout\r\n").endsWith("request timeout");
  }
}
