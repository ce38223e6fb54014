package dev.bowline.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free ports on loopback addresses for listeners the test must name in config. */
final class Ports {
  private Ports() {}

  static int free(String ip) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
