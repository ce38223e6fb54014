package dev.bowline.proxy.http.filter.stats;

import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The series of one kind of stats filter (reporter, prefix, overrides), by peer and destination
 * service key. Listeners with the same config share one table.
 */
final class SeriesTable {
  final String prefix;
  final Map<Metric, MetricOverride> overrides;
  private final ConcurrentHashMap<PeerInfo, ConcurrentHashMap<String, Group>> groups =
      new ConcurrentHashMap<>();

  /**
   * The connection identities seen (principals and security policy), interned so that a series key
   * carries an index: found by a scan of a small copy-on-write array, no allocation on a hit. Index
   * 0 is the all-{@code unknown} one, which also takes any identity beyond {@link #MAX_IDENTITIES}.
   */
  private volatile TlsIdentity[] identities = {
    new TlsIdentity(PeerInfo.UNKNOWN, PeerInfo.UNKNOWN, PeerInfo.UNKNOWN)
  };

  /** Identities fit in the 14 bits a series key keeps for them. */
  static final int MAX_IDENTITIES = 1 << 14;

  /** A connection's {@code source_principal}, {@code destination_principal}, policy. */
  record TlsIdentity(String sourcePrincipal, String destinationPrincipal, String policy) {}

  SeriesTable(String prefix, Map<Metric, MetricOverride> overrides) {
    this.prefix = prefix;
    this.overrides = Map.copyOf(overrides);
  }

  /** The index of the identity ({@code src}, {@code dst}, {@code policy}), interning it. */
  int identity(String src, String dst, String policy) {
    TlsIdentity[] all = identities;
    for (int i = 0; i < all.length; i++) {
      TlsIdentity t = all[i];
      if (t.policy() == policy
          && t.sourcePrincipal().equals(src)
          && t.destinationPrincipal().equals(dst)) {
        return i;
      }
    }
    return addIdentity(src, dst, policy);
  }

  private synchronized int addIdentity(String src, String dst, String policy) {
    TlsIdentity[] all = identities;
    for (int i = 0; i < all.length; i++) {
      TlsIdentity t = all[i];
      if (t.policy().equals(policy)
          && t.sourcePrincipal().equals(src)
          && t.destinationPrincipal().equals(dst)) {
        return i;
      }
    }
    if (all.length >= MAX_IDENTITIES) {
      return 0;
    }
    TlsIdentity[] next = java.util.Arrays.copyOf(all, all.length + 1);
    next[all.length] = new TlsIdentity(src, dst, policy);
    identities = next;
    return all.length;
  }

  TlsIdentity identity(int index) {
    return identities[index];
  }

  @Nullable Group find(PeerInfo peer, String serviceKey) {
    var byService = groups.get(peer);
    return byService == null ? null : byService.get(serviceKey);
  }

  Group add(PeerInfo peer, String serviceKey, Group g) {
    var byService = groups.computeIfAbsent(peer, p -> new ConcurrentHashMap<>());
    Group prev = byService.putIfAbsent(serviceKey, g);
    return prev == null ? g : prev;
  }

  List<Series> allSeries() {
    List<Series> out = new ArrayList<>();
    for (var byService : groups.values()) {
      for (Group g : byService.values()) {
        out.addAll(List.of(g.all()));
      }
    }
    return out;
  }
}
