package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A request head that reaches the proxy in many reads is the same request upstream as one that
 * arrives whole (decision 0037, addendum 16: such a head waits in the decoder's buffer for its end
 * and is decoded once, on the fast path), over real sockets with a raw client writing with
 * TCP_NODELAY and a raw backend recording what arrives: in reads of 1, 2 and random sizes, a
 * request with a body and a pipelined second one behind it. And Envoy's answers are kept when a
 * head is split: an oversized one gets 431, a bad request line 400 as soon as its line ends, and a
 * head cut short by the client's half-close reaches no backend.
 */
class SplitHeadProxyTest {
  static final String IP = "127.0.7.76";
  static final String BACKEND_IP = "127.0.7.77";

  static RecordingBackend backend;
  static Proxy proxy;
  static int port;

  @BeforeAll
  static void start() throws IOException {
    backend = new RecordingBackend(BACKEND_IP);
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "split",
                """
                max_request_headers_kb: 4
                generate_request_id: false""",
                SocketProxy.to("/", "b"))
            .cluster("b", BACKEND_IP, backend.port())
            .start();
    proxy = socket.proxy;
    port = socket.port("split");
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    backend.close();
  }

  // a browser-sized head with a body, then a second request pipelined behind it
  private static final String TWO_REQUESTS =
      "POST /split/one?q=1 HTTP/1.1\r\nHost: split.example\r\n"
          + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
          + "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Language: en-GB\r\n"
          + "Cookie: session="
          + "0123456789abcdef".repeat(20)
          + "\r\nX-Empty:\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
          + "GET /split/two HTTP/1.1\r\nHost: split.example\r\nX-Second: 2\r\n\r\n";

  @Test
  void aHeadInManyReadsIsTheSameRequestUpstreamAsAWholeOne() throws Exception {
    List<String> whole = send(TWO_REQUESTS, () -> TWO_REQUESTS.length());
    assertThat(whole).hasSize(2);
    assertThat(whole.get(0))
        .startsWith("POST /split/one?q=1 HTTP/1.1\r\n")
        .contains("cookie: session=0123456789abcdef")
        .endsWith("\r\n\r\nhello world");
    assertThat(whole.get(1)).startsWith("GET /split/two HTTP/1.1\r\n").contains("x-second: 2");

    assertThat(send(TWO_REQUESTS, () -> 1)).as("in 1-byte writes").isEqualTo(whole);
    assertThat(send(TWO_REQUESTS, () -> 2)).as("in 2-byte writes").isEqualTo(whole);
    for (int seed = 1; seed <= 3; seed++) {
      Random r = new Random(seed);
      assertThat(send(TWO_REQUESTS, () -> 1 + r.nextInt(97)))
          .as("in writes of random sizes, seed %d", seed)
          .isEqualTo(whole);
    }
  }

  @Test
  void anOversizedHeadSplitAcrossReadsIs431() throws Exception {
    String head = "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(6000) + "\r\n\r\n";
    try (Socket s = client(port)) {
      write(s, head, () -> 100);
      assertThat(readAll(s)).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
    }
  }

  @Test
  void aBadRequestLineIs400BeforeTheHeadEnds() throws Exception {
    try (Socket s = client(port)) {
      write(s, "GET /a b HTTP/1.1\r\n", () -> 3); // no blank line follows
      assertThat(readAll(s)).startsWith("HTTP/1.1 400 Bad Request\r\n");
    }
  }

  @Test
  void aHeadCutShortByAHalfCloseReachesNoBackend() throws Exception {
    int before = backend.requests.size();
    try (Socket s = client(port)) {
      write(s, "GET /cut HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n", () -> 5);
      s.shutdownOutput(); // the head never ends: the proxy's decoder sees its input end
      // Netty's decoder takes the bytes kept so far and ends the head as cut short: the
      // connection closes without an answer, as when Netty's decoder held the head's start
      assertThat(readAll(s)).isEmpty();
    }
    assertThat(backend.requests).hasSize(before);
  }

  private static Socket client(int port) throws IOException {
    Socket s = new Socket(IP, port);
    s.setTcpNoDelay(true);
    s.setSoTimeout(30_000);
    return s;
  }

  /** Writes {@code text} in writes of {@code sizes} bytes, each its own segment (no delay). */
  private static void write(Socket s, String text, IntSupplier sizes) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
    OutputStream out = s.getOutputStream();
    for (int at = 0; at < b.length; ) {
      int n = Math.min(sizes.getAsInt(), b.length - at);
      out.write(b, at, n);
      out.flush();
      at += n;
    }
  }

  /** Sends {@code text} in writes of {@code sizes}, reads two responses: what the backend got. */
  private static List<String> send(String text, IntSupplier sizes) throws Exception {
    backend.requests.clear();
    try (Socket s = client(port)) {
      write(s, text, sizes);
      InputStream in = s.getInputStream();
      for (int i = 0; i < 2; i++) {
        assertThat(BadInputTest.readResponse(in)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("ok");
      }
    }
    List<String> got = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      String r = backend.requests.poll(30, TimeUnit.SECONDS);
      assertThat(r).as("request %d reached the backend", i).isNotNull();
      got.add(r);
    }
    return got;
  }

  private static String readAll(Socket s) throws IOException {
    try {
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    } catch (SocketTimeoutException e) {
      return "(no answer in 30 s)";
    }
  }

  /**
   * A raw HTTP/1.1 backend: records each request (head as received, lower-cased names, then its
   * content-length body) and answers 200 "ok".
   */
  static final class RecordingBackend implements AutoCloseable {
    final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    private final ServerSocket server;

    RecordingBackend(String ip) throws IOException {
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
          return; // closed
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        while (true) {
          String head = head(in);
          if (head == null) {
            return;
          }
          int length = 0;
          for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
              length = Integer.parseInt(line.substring(15).trim());
            }
          }
          String body = new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
          requests.add(head + body);
          s.getOutputStream()
              .write(
                  "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                      .getBytes(StandardCharsets.US_ASCII));
        }
      } catch (IOException e) {
        // the proxy closed the connection
      }
    }

    /** One head through its blank line, names lower-cased; null at the end of the stream. */
    private static String head(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int c = in.read();
        if (c < 0) {
          return null;
        }
        b.write(c);
        matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : (c == '\r' ? 1 : 0);
      }
      StringBuilder out = new StringBuilder();
      String[] lines = b.toString(StandardCharsets.ISO_8859_1).split("\r\n", -1);
      for (int i = 0; i < lines.length - 2; i++) {
        String line = lines[i];
        int colon = line.indexOf(':');
        out.append(
                i == 0 || colon < 0
                    ? line
                    : line.substring(0, colon).toLowerCase(Locale.ROOT) + line.substring(colon))
            .append("\r\n");
      }
      return out.append("\r\n").toString();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
