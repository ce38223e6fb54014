package dev.bowline.proxy.lb;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Maglev's lookup table (Eisenbud et al., NSDI 2016), as Envoy builds it: each host walks its own
 * permutation of the slots ({@code offset = xxHash64(ip:port, 0) mod M}, {@code skip =
 * xxHash64(ip:port, 1) mod (M − 1) + 1}) and claims the next free one, hosts taking turns in
 * proportion to their weights until all {@code M} slots are filled; a request takes slot {@code
 * hash mod M}.
 */
public final class MaglevTable<T> implements HashTable<T> {
  private final Object[] table;

  MaglevTable(List<Entry<T>> entries, long tableSize) {
    if (entries.isEmpty()) {
      table = new Object[0];
      return;
    }
    int m = (int) tableSize;
    table = new Object[m];
    int n = entries.size();
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] next = new long[n];
    double[] target = new double[n];
    int maxWeight = 1;
    for (Entry<T> e : entries) {
      maxWeight = Math.max(maxWeight, e.weight());
    }
    for (int i = 0; i < n; i++) {
      String key = entries.get(i).key();
      offset[i] = Long.remainderUnsigned(XxHash64.hash(key, 0), m);
      skip[i] = Long.remainderUnsigned(XxHash64.hash(key, 1), m - 1) + 1;
    }
    int filled = 0;
    for (long iteration = 1; filled < m; iteration++) {
      for (int i = 0; i < n && filled < m; i++) {
        // a host of maximal weight claims a slot every turn, one of a third of it every third
        if ((double) iteration * entries.get(i).weight() < target[i]) {
          continue;
        }
        target[i] += maxWeight;
        int c = (int) ((offset[i] + skip[i] * next[i]) % m);
        while (table[c] != null) {
          next[i]++;
          c = (int) ((offset[i] + skip[i] * next[i]) % m);
        }
        table[c] = entries.get(i).host();
        next[i]++;
        filled++;
      }
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public @Nullable T pick(long hash) {
    return table.length == 0 ? null : (T) table[(int) Long.remainderUnsigned(hash, table.length)];
  }
}
