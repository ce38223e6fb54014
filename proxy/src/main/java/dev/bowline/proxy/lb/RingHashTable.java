package dev.bowline.proxy.lb;

import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's ketama-style ring: each host gets ring entries in proportion to its normalised weight,
 * enough that the lightest host has {@code minimumRingSize × its share} of them (capped at {@code
 * maximumRingSize} in all), each at {@code xxHash64("<ip:port>_<i>")}; a request takes the first
 * entry at or after its hash, wrapping around.
 */
public final class RingHashTable<T> implements HashTable<T> {
  private final long[] hashes;
  private final Object[] hosts;

  RingHashTable(List<Entry<T>> entries, long minimumRingSize, long maximumRingSize) {
    if (entries.isEmpty()) {
      hashes = new long[0];
      hosts = new Object[0];
      return;
    }
    double total = 0;
    for (Entry<T> e : entries) {
      total += e.weight();
    }
    double minNormalized = 1.0;
    for (Entry<T> e : entries) {
      minNormalized = Math.min(minNormalized, e.weight() / total);
    }
    double scale =
        Math.min(
            Math.ceil(minNormalized * minimumRingSize) / minNormalized, (double) maximumRingSize);
    int size = (int) Math.ceil(scale);
    long[] h = new long[size + entries.size()];
    Object[] owner = new Object[h.length];
    int n = 0;
    double current = 0;
    double target = 0;
    for (Entry<T> e : entries) {
      target += scale * (e.weight() / total);
      int i = 0;
      while (current < target && n < h.length) {
        h[n] = XxHash64.hash(e.key() + "_" + i, 0);
        owner[n] = e.host();
        n++;
        i++;
        current++;
      }
    }
    // sort entries by unsigned hash, keeping their hosts beside them
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    final long[] hv = h;
    Arrays.sort(order, (a, b) -> Long.compareUnsigned(hv[a], hv[b]));
    this.hashes = new long[n];
    this.hosts = new Object[n];
    for (int i = 0; i < n; i++) {
      hashes[i] = h[order[i]];
      hosts[i] = owner[order[i]];
    }
  }

  /** Ring entries, for tests and the admin page. */
  public int size() {
    return hashes.length;
  }

  @Override
  @SuppressWarnings("unchecked")
  public @Nullable T pick(long hash) {
    int n = hashes.length;
    if (n == 0) {
      return null;
    }
    // first entry whose hash is >= hash (unsigned), wrapping to the first
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], hash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return (T) hosts[lo == n ? 0 : lo];
  }
}
