package dev.bowline.proxy.http.filter.stats;

import org.jspecify.annotations.Nullable;

/**
 * The series of one (peer, destination service) pair: the label values that follow from the pair
 * are resolved once, and the few series that differ per request (code, flags, protocol, gRPC
 * status) are found by a scan of a small copy-on-write array: no lock, no allocation on a hit.
 */
final class Group {
  /** Label values from {@code reporter} up to {@code destination_cluster}, in Istio's order. */
  final String[] base;

  private volatile Entries entries = new Entries(new long[0], new Series[0]);

  private record Entries(long[] keys, Series[] series) {}

  Group(String[] base) {
    this.base = base;
  }

  @Nullable Series find(long key) {
    Entries e = entries;
    long[] keys = e.keys();
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] == key) {
        return e.series()[i];
      }
    }
    return null;
  }

  /** Adds {@code s} under {@code key} unless another thread did first; returns the one kept. */
  synchronized Series add(long key, Series s) {
    Series existing = find(key);
    if (existing != null) {
      return existing;
    }
    Entries e = entries;
    int n = e.keys().length;
    long[] keys = java.util.Arrays.copyOf(e.keys(), n + 1);
    Series[] series = java.util.Arrays.copyOf(e.series(), n + 1);
    keys[n] = key;
    series[n] = s;
    entries = new Entries(keys, series);
    return s;
  }

  Series[] all() {
    return entries.series();
  }
}
