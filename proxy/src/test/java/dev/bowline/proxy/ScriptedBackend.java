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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A backend on plain sockets, one virtual thread per connection, that counts the connections it
 * accepts and those its peer ended. Scripted ({@link #ScriptedBackend}), it is an HTTP/1.1 backend
 * whose answers the test writes byte for byte; {@link #stall} makes a peer that never answers.
 */
final class ScriptedBackend implements AutoCloseable {
  /** What the backend does with one request. */
  interface Script {
    /** Answers the request for {@code path} on {@code out}; false closes the connection. */
    boolean answer(String path, OutputStream out) throws Exception;
  }

  /** What the backend does with one connection, which closes then; true if its peer ended it. */
  private interface Serve {
    boolean serve(Socket s) throws Exception;
  }

  private final ServerSocket server;
  private final Serve serve;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();

  /** The request heads an {@link #echo} backend got, lower-cased, in order. */
  final BlockingQueue<String> heads;

  /** Connections accepted so far. */
  final AtomicInteger connections = new AtomicInteger();

  /** Connections whose peer closed or reset them. */
  final AtomicInteger closedByPeer = new AtomicInteger();

  /**
   * An HTTP/1.1 backend: for each request head (requests without a body) {@code script} writes what
   * it wants and says whether the connection stays open.
   */
  ScriptedBackend(String ip, Script script) throws IOException {
    this(
        ip,
        s -> {
          InputStream in = s.getInputStream();
          String head;
          while ((head = readHead(in)) != null) {
            int from = head.indexOf(' ') + 1;
            if (!script.answer(
                head.substring(from, head.indexOf(' ', from)), s.getOutputStream())) {
              return false;
            }
          }
          return true;
        });
  }

  private ScriptedBackend(String ip, Serve serve) throws IOException {
    this(ip, serve, new LinkedBlockingQueue<>());
  }

  private ScriptedBackend(String ip, Serve serve, BlockingQueue<String> heads) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getByName(ip));
    this.serve = serve;
    this.heads = heads;
    Thread.ofVirtual().start(this::accept);
  }

  /**
   * An HTTP/1.1 backend that answers each request (without a body) 200 with the request's head,
   * lower-cased, as its body, and keeps each head in {@link #heads}. A request header {@code
   * x-answer: name=value} adds the header {@code name: value} to the response (a {@code server} or
   * {@code via} from upstream).
   */
  static ScriptedBackend echo(String ip) throws IOException {
    BlockingQueue<String> heads = new LinkedBlockingQueue<>();
    return new ScriptedBackend(
        ip,
        s -> {
          InputStream in = s.getInputStream();
          OutputStream out = s.getOutputStream();
          String head;
          while ((head = readHead(in)) != null) {
            String lower = head.toLowerCase(Locale.ROOT);
            heads.add(lower);
            byte[] body = lower.getBytes(StandardCharsets.ISO_8859_1);
            String extra = headerValue(lower, "x-answer");
            out.write(
                ("HTTP/1.1 200 OK\r\n"
                        + (extra == null ? "" : extra.replace('=', ':') + "\r\n")
                        + "content-length: "
                        + body.length
                        + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
          }
          return true;
        },
        heads);
  }

  /** The next head an {@link #echo} backend got (30 s at most), asserting that one came. */
  String nextHead() throws InterruptedException {
    String head = heads.poll(30, TimeUnit.SECONDS);
    assertThat(head).as("a request reached the backend").isNotNull();
    return head;
  }

  /**
   * The value of header {@code name} (lower-case) in {@code head} (lower-cased, as an {@link #echo}
   * backend's body holds it), trimmed; null when there is none.
   */
  static @Nullable String headerValue(String head, String name) {
    for (String line : head.split("\r\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  /**
   * A peer that accepts TCP connections, reads and drops what comes, and never answers: a TLS
   * handshake with it never ends. For connect and handshake timeouts.
   */
  static ScriptedBackend stall(String ip) throws IOException {
    return new ScriptedBackend(
        ip,
        s -> {
          s.getInputStream().transferTo(OutputStream.nullOutputStream());
          return true;
        });
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      accepted.add(s);
      connections.incrementAndGet();
      Thread.ofVirtual().start(() -> serve(s));
    }
  }

  private void serve(Socket s) {
    try (s) {
      if (serve.serve(s)) {
        closedByPeer.incrementAndGet();
      }
    } catch (IOException e) {
      closedByPeer.incrementAndGet(); // reset by the peer
    } catch (Exception e) {
      // the script failed: the connection closes
    }
  }

  /** A request head through its blank line, or null at the end of the stream. */
  static String readHead(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    while (!b.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        return null;
      }
      b.append((char) c);
    }
    return b.toString();
  }

  /** Writes {@code text} (ISO-8859-1) and flushes. */
  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  String ip() {
    return server.getInetAddress().getHostAddress();
  }

  int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
  }
}
