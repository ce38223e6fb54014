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

  SeriesTable(String prefix, Map<Metric, MetricOverride> overrides) {
    this.prefix = prefix;
    this.overrides = Map.copyOf(overrides);
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
