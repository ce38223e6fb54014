package dev.bowline.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The loopback addresses of this test JVM: a {@code 127.A.0.0/16} of its own, so that several IT
 * runs (two worktrees' {@code ./mvnw verify}, a {@code bowline demo} on {@code 127.0.0.x}) share
 * one machine without meeting on a port. Tests name their addresses as before, {@code 127.0.B.C},
 * and {@link #ip} moves them to {@code 127.A.B.C}; every fixed port (8080, 15000, 15012, ...) then
 * binds on an address no other run uses.
 *
 * <p>A block is leased by listening on {@code 127.A.255.254:15999} for the JVM's life: a second JVM
 * that draws the same {@code A} cannot bind there and draws again. {@code A} is never 0, the block
 * of {@code bowline up}'s and {@code bowline demo}'s defaults.
 */
public final class TestNet {
  private static final int LEASE_PORT = 15999;
  private static final Lease LEASE = Lease.take();
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private TestNet() {}

  /**
   * {@code address} ({@code 127.0.B.C}, or a prefix {@code 127.0.B}) moved into this JVM's block.
   *
   * @throws IllegalArgumentException if it does not start with {@code 127.0.}
   */
  public static String ip(String address) {
    if (!address.startsWith("127.0.")) {
      throw new IllegalArgumentException(address + " is not a 127.0.x.y address");
    }
    return "127." + LEASE.block + "." + address.substring("127.0.".length());
  }

  /**
   * A port free on {@code ip} now that this JVM has not handed out before. The kernel may give the
   * port a probe socket just released to the next {@code bind(0)}, so a test asking for several in
   * a row could get one twice ("duplicate address" at start-up); every port handed out here is
   * remembered and never handed out again, whatever the address.
   */
  public static int freePort(String ip) {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no port on " + ip + " not handed out already");
  }

  /** The second byte of this JVM's block ({@code A} of {@code 127.A.0.0/16}). */
  public static int block() {
    return LEASE.block;
  }

  /** Holds the block's lease socket open until the JVM exits. */
  private record Lease(int block, ServerSocket socket) {
    static Lease take() {
      IOException last = null;
      for (int attempt = 0; attempt < 64; attempt++) {
        int a = ThreadLocalRandom.current().nextInt(1, 255);
        ServerSocket s = null;
        try {
          s = new ServerSocket();
          s.bind(new InetSocketAddress(InetAddress.ofLiteral("127." + a + ".255.254"), LEASE_PORT));
          System.err.println("TestNet: this run's addresses are 127." + a + ".0.0/16");
          return new Lease(a, s);
        } catch (IOException e) {
          last = e;
          try {
            if (s != null) {
              s.close();
            }
          } catch (IOException ignored) {
            // nothing was bound
          }
        }
      }
      throw new UncheckedIOException("no free 127.A.0.0/16 block for this test run", last);
    }
  }
}
