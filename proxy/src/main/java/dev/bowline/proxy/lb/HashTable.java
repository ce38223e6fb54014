package dev.bowline.proxy.lb;

import java.util.List;

/**
 * A consistent-hash lookup over a fixed host set: built once when the set changes, then read by one
 * event loop per request without locks or allocation.
 *
 * @param <T> the host type
 */
public sealed interface HashTable<T> permits RingHashTable, MaglevTable {
  /** The host for request hash {@code hash}; null when the table is empty. */
  @org.jspecify.annotations.Nullable
  T pick(long hash);

  /** A host to put in a table: its key (Envoy hashes the address as {@code ip:port}), weight. */
  record Entry<T>(T host, String key, int weight) {}

  /** Builds the table of {@code lb} over {@code hosts}. */
  static <T> HashTable<T> build(
      dev.bowline.proxy.config.ClusterPolicy.Lb lb, List<Entry<T>> hosts) {
    return switch (lb) {
      case dev.bowline.proxy.config.ClusterPolicy.Maglev m ->
          new MaglevTable<>(hosts, m.tableSize());
      case dev.bowline.proxy.config.ClusterPolicy.RingHash r ->
          new RingHashTable<>(hosts, r.minimumRingSize(), r.maximumRingSize());
      default -> new RingHashTable<>(hosts, 1024, 8 * 1024 * 1024);
    };
  }
}
