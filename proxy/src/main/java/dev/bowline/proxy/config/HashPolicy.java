package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Optional;

/**
 * One entry of a route's {@code hash_policy}: what a request is hashed by for RING_HASH and MAGLEV
 * clusters. Hashes of several entries are combined as Envoy does; a {@code terminal} entry that
 * produced a hash ends the list.
 */
public sealed interface HashPolicy {
  /** Stop after this entry when it produced a hash. */
  boolean terminal();

  /** The value of request header {@code name} (lower case). */
  record Header(String name, boolean terminal) implements HashPolicy {}

  /**
   * The value of cookie {@code name}; when absent and {@code ttl} is present, the proxy generates
   * one, hashes it, and sets it on the response ({@code path} as its Path attribute).
   */
  record Cookie(String name, Optional<Duration> ttl, Optional<String> path, boolean terminal)
      implements HashPolicy {}

  /** The downstream connection's source IP. */
  record SourceIp(boolean terminal) implements HashPolicy {}

  /** The first value of query parameter {@code name}. */
  record QueryParameter(String name, boolean terminal) implements HashPolicy {}
}
