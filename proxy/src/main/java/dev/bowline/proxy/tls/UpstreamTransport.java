package dev.bowline.proxy.tls;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a cluster talks to an endpoint: the cluster's {@code transport_socket} and its {@code
 * transport_socket_matches}. The first match whose criteria all equal the endpoint's {@code
 * envoy.transport_socket_match} metadata wins, else the default. An empty TLS means plaintext
 * ({@code raw_buffer}).
 */
public record UpstreamTransport(Optional<UpstreamTls> defaultTls, List<Match> matches) {
  public static final UpstreamTransport PLAINTEXT =
      new UpstreamTransport(Optional.empty(), List.of());

  public UpstreamTransport {
    matches = List.copyOf(matches);
  }

  /**
   * One {@code transport_socket_matches} entry.
   *
   * @param name its name (for stats)
   * @param criteria metadata the endpoint must carry; empty matches every endpoint
   * @param tls its transport socket; empty is plaintext
   */
  public record Match(String name, Map<String, String> criteria, Optional<UpstreamTls> tls) {
    public Match {
      criteria = Map.copyOf(criteria);
    }
  }

  /** The TLS to use towards an endpoint with {@code metadata}; empty for plaintext. */
  public Optional<UpstreamTls> forEndpoint(Map<String, String> metadata) {
    for (Match m : matches) {
      if (metadata.entrySet().containsAll(m.criteria().entrySet())) {
        return m.tls();
      }
    }
    return defaultTls;
  }

  /** Every TLS context this transport can use. */
  public List<UpstreamTls> all() {
    List<UpstreamTls> out = new java.util.ArrayList<>();
    defaultTls.ifPresent(out::add);
    for (Match m : matches) {
      m.tls().ifPresent(out::add);
    }
    return out;
  }
}
