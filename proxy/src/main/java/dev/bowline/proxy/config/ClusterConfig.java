package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Optional;

/**
 * A cluster.
 *
 * @param name xDS name
 * @param discovery where endpoints come from
 * @param lbPolicy how an endpoint is chosen
 * @param connectTimeout upstream connect timeout
 * @param http2 speak HTTP/2 (prior knowledge) upstream instead of HTTP/1.1
 * @param maxRequestsPerConnection zero means unlimited
 */
public record ClusterConfig(
    String name,
    Discovery discovery,
    LbPolicy lbPolicy,
    Duration connectTimeout,
    boolean http2,
    int maxRequestsPerConnection) {

  /** Where a cluster's endpoints come from. */
  public sealed interface Discovery {}

  /** {@code STATIC}: the endpoints written in the cluster. */
  public record Static(Endpoints endpoints) implements Discovery {}

  /** {@code EDS}: the endpoints arrive by EDS under {@code serviceName}. */
  public record Eds(String serviceName) implements Discovery {}

  /** Load-balancing policies. */
  public enum LbPolicy {
    ROUND_ROBIN,
    LEAST_REQUEST,
    RANDOM
  }

  /** The EDS service name, when the cluster takes endpoints from EDS. */
  public Optional<String> edsName() {
    return discovery instanceof Eds e ? Optional.of(e.serviceName()) : Optional.empty();
  }
}
