package dev.bowline.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 backend on plain sockets whose answers are written byte for byte by the test: for
 * each request head (requests without a body) the script writes what it wants and says whether the
 * connection stays open. Counts connections.
 */
final class ScriptedBackend implements AutoCloseable {
  /** What the backend does with one request. */
  interface Script {
    /** Answers the request for {@code path} on {@code out}; false closes the connection. */
    boolean answer(String path, OutputStream out) throws Exception;
  }

  private final ServerSocket server;
  private final Script script;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();

  /** Connections accepted so far. */
  final AtomicInteger connections = new AtomicInteger();

  ScriptedBackend(String ip, Script script) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getByName(ip));
    this.script = script;
    Thread.ofVirtual().start(this::accept);
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
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        String path =
            head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
        if (!script.answer(path, out)) {
          return;
        }
      }
    } catch (Exception e) {
      // the peer went away
    }
  }

  /** A request head, or null at the end of the stream. */
  private static String readHead(InputStream in) throws IOException {
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
