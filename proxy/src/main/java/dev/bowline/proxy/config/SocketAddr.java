package dev.bowline.proxy.config;

import java.net.InetSocketAddress;

/** An IP address and port as written in config; {@code ip} is a literal, never a DNS name. */
public record SocketAddr(String ip, int port) {
  public SocketAddr {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " out of range");
    }
  }

  public InetSocketAddress toInet() {
    return new InetSocketAddress(ip, port);
  }

  /** Envoy's spelling, {@code 127.0.0.1:8080} or {@code [::1]:8080}. */
  @Override
  public String toString() {
    return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + port;
  }
}
