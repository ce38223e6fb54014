package dev.bowline.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A peer that accepts TCP connections, reads and drops what comes, and never answers: a TLS
 * handshake with it never ends. For connect and handshake timeouts.
 */
final class StallServer implements AutoCloseable {
  private final ServerSocket server;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();

  /** Connections accepted so far. */
  final AtomicInteger connections = new AtomicInteger();

  /** Connections whose peer closed them. */
  final AtomicInteger closedByPeer = new AtomicInteger();

  StallServer(String ip) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getByName(ip));
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
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                  closedByPeer.incrementAndGet();
                } catch (IOException e) {
                  closedByPeer.incrementAndGet(); // reset by the peer
                }
              });
    }
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
