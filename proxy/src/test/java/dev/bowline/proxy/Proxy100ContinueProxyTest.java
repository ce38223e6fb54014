package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code proxy_100_continue}, over real sockets with a raw HTTP/1.1 client
 * and backend. False (Envoy's default): the proxy answers a request's {@code expect: 100-continue}
 * itself and the upstream never sees the header. True: the header goes upstream and the client's
 * 100 is the upstream's (its own header with it), counted in {@code downstream_rq_1xx}.
 */
class Proxy100ContinueProxyTest {
  static final String IP = "127.0.96.1";

  static ExpectBackend backend;
  static SocketProxy proxy;
  static int ownPort;
  static int passPort;

  @BeforeAll
  static void start() throws Exception {
    backend = new ExpectBackend("127.0.96.2");
    ownPort = Ports.free(IP);
    passPort = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener("own", IP, ownPort, "", SocketProxy.to("/", "b")),
                SocketProxy.listener(
                    "pass", IP, passPort, "proxy_100_continue: true", SocketProxy.to("/", "b"))),
            List.of(SocketProxy.cluster("b", "127.0.96.2", backend.port(), "")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  /** Reads a response head (to its blank line). */
  static String head(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    while (!b.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("closed after " + b);
      }
      b.append((char) c);
    }
    return b.toString();
  }

  /**
   * A POST with {@code expect: 100-continue} on {@code port}: the interim head, then, after the
   * body went, the final head and body.
   */
  static String[] postExpecting(int port) throws Exception {
    try (Socket s = new Socket(IP, port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String interim = head(in);
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String last = head(in);
      int at = last.toLowerCase(Locale.ROOT).indexOf("content-length: ");
      int n = Integer.parseInt(last.substring(at + 16, last.indexOf("\r\n", at)).trim());
      return new String[] {interim, last, new String(in.readNBytes(n), StandardCharsets.US_ASCII)};
    }
  }

  @Test
  void byDefaultTheProxyAnswersTheExpectationItself() throws Exception {
    String[] r = postExpecting(ownPort);
    assertThat(r[0]).startsWith("HTTP/1.1 100 Continue").doesNotContain("x-from");
    assertThat(r[1]).startsWith("HTTP/1.1 200");
    assertThat(r[2]).isEqualTo("expect=none body=hello");
  }

  @Test
  void withProxy100ContinueTheUpstreamAnswersIt() throws Exception {
    long informational = proxy.stat("http.pass.downstream_rq_1xx");
    String[] r = postExpecting(passPort);
    assertThat(r[0]).startsWith("HTTP/1.1 100 Continue").contains("x-from: upstream");
    assertThat(r[1]).startsWith("HTTP/1.1 200");
    assertThat(r[2]).isEqualTo("expect=100-continue body=hello");
    assertThat(proxy.stat("http.pass.downstream_rq_1xx")).isEqualTo(informational + 1);
  }

  /**
   * An HTTP/1.1 backend that answers {@code expect: 100-continue} with its own 100 (and an {@code
   * x-from: upstream} header), reads the body, and says what it got.
   */
  static final class ExpectBackend implements AutoCloseable {
    private final ServerSocket server;

    ExpectBackend(String ip) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName(ip));
      Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          Thread.ofVirtual().start(() -> serve(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        while (true) {
          String head = head(in).toLowerCase(Locale.ROOT);
          int at = head.indexOf("\r\nexpect: ");
          String expect =
              at < 0 ? "none" : head.substring(at + 10, head.indexOf("\r\n", at + 2)).trim();
          if (at >= 0) {
            out.write(
                "HTTP/1.1 100 Continue\r\nx-from: upstream\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
          int cl = head.indexOf("\r\ncontent-length: ");
          int n =
              cl < 0
                  ? 0
                  : Integer.parseInt(head.substring(cl + 18, head.indexOf("\r\n", cl + 2)).trim());
          String body = new String(in.readNBytes(n), StandardCharsets.US_ASCII);
          byte[] answer =
              ("expect=" + expect + " body=" + body).getBytes(StandardCharsets.US_ASCII);
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Length: " + answer.length + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(answer);
          out.flush();
        }
      } catch (IOException e) {
        // the proxy went away
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
