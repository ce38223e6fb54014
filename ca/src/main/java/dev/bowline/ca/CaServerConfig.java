package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Where and how the CA's gRPC endpoint listens.
 *
 * @param host the address to bind (loopback in local mode)
 * @param port the TCP port; Istio's is 15012, 0 picks a free one
 * @param serverNames DNS names and IP literals in the server certificate the CA presents, besides
 *     {@code host}; agents verify one of them against the trust bundle
 * @param threads request threads (signing is CPU-bound: about one per core)
 * @param maxMessageBytes the largest request accepted; larger ones get RESOURCE_EXHAUSTED
 */
public record CaServerConfig(
    String host, int port, List<String> serverNames, int threads, int maxMessageBytes) {

  /** Istio's CA port. */
  public static final int ISTIO_PORT = 15012;

  /** Checks each field. */
  public CaServerConfig {
    requireNonNull(host, "host");
    serverNames = List.copyOf(requireNonNull(serverNames, "serverNames"));
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("CaServerConfig.port: must be 0-65535, was " + port);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("CaServerConfig.threads: must be >= 1, was " + threads);
    }
    if (maxMessageBytes < 4096) {
      throw new IllegalArgumentException(
          "CaServerConfig.maxMessageBytes: must be >= 4096, was " + maxMessageBytes);
    }
  }

  /**
   * Port 15012 on {@code host}, the names Istio's agents expect of istiod, one request thread per
   * core, 64 KiB requests at most.
   */
  public static CaServerConfig defaults(String host) {
    return new CaServerConfig(
        host,
        ISTIO_PORT,
        List.of(
            "istiod.istio-system.svc",
            "istiod.istio-system.svc.cluster.local",
            "istiod",
            "localhost"),
        Runtime.getRuntime().availableProcessors(),
        64 * 1024);
  }

  /** This config on another port (0 for any free one). */
  public CaServerConfig withPort(int port) {
    return new CaServerConfig(host, port, serverNames, threads, maxMessageBytes);
  }
}
