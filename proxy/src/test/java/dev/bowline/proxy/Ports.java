package dev.bowline.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free ports on loopback addresses for listeners the test must name in config.
 *
 * <p>A port is never handed out twice in one JVM, and it is taken below the kernel's ephemeral
 * range ({@code ip_local_port_range}) where one is known: {@code bind(0)} may hand the port a probe
 * socket just released to the next caller, so a test asking for several in a row could get one
 * twice, and a backend bound to port 0 after it could get the port the test just named for a
 * listener ("duplicate address" at start-up). Ports below that range are never given by {@code
 * bind(0)} nor used as a connection's source port.
 */
final class Ports {
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
  private static final int FIRST =
      20_000; // above the fixed ports tests and demos name (15000-18999)
  private static final int END = ephemeralLow();
  private static final AtomicInteger NEXT =
      new AtomicInteger(END > FIRST ? ThreadLocalRandom.current().nextInt(FIRST, END) : 0);

  private Ports() {}

  static int free(String ip) {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = END > FIRST ? belowEphemeral() : ephemeral(ip);
      if (bindable(ip, port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no port on " + ip + " not handed out already");
  }

  private static int belowEphemeral() {
    return FIRST + Math.floorMod(NEXT.getAndIncrement() - FIRST, END - FIRST);
  }

  private static int ephemeral(String ip) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean bindable(String ip, int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(ip))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The first port of the kernel's ephemeral range, or 0 when unknown (not Linux). */
  private static int ephemeralLow() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
