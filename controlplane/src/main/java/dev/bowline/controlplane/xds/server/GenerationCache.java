package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import dev.bowline.controlplane.xds.gen.XdsGenerator;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Generated resources per (push context, equivalence class, type, requested names): the second
 * proxy of a class gets the first one's output. Holds only the current push context's entries; a
 * newer context drops them all.
 */
final class GenerationCache {
  private record Key(EquivalenceClass cls, String typeUrl, ResourceNames names) {}

  private final XdsMetrics metrics;
  private volatile long contextVersion = -1;
  private volatile Map<Key, SortedMap<String, GeneratedResource>> entries =
      new ConcurrentHashMap<>();

  GenerationCache(XdsMetrics metrics) {
    this.metrics = metrics;
  }

  SortedMap<String, GeneratedResource> get(
      Proxy proxy, PushContext push, String typeUrl, ResourceNames names, XdsGenerator generator) {
    Map<Key, SortedMap<String, GeneratedResource>> map = entriesFor(push);
    Key key = new Key(EquivalenceClass.of(proxy, push), typeUrl, names);
    SortedMap<String, GeneratedResource> hit = map.get(key);
    if (hit != null) {
      metrics.cacheRead(true);
      return hit;
    }
    // computeIfAbsent: when many equivalent proxies ask at once (a reconnect storm), one generates
    // and the others wait for its result instead of generating the same thing in parallel.
    boolean[] generated = {false};
    SortedMap<String, GeneratedResource> value =
        map.computeIfAbsent(
            key,
            k -> {
              generated[0] = true;
              SortedMap<String, GeneratedResource> packed = new TreeMap<>();
              generator
                  .generate(proxy, push, names)
                  .forEach((name, msg) -> packed.put(name, GeneratedResource.of(name, msg)));
              return Collections.unmodifiableSortedMap(packed);
            });
    metrics.cacheRead(!generated[0]);
    return value;
  }

  private synchronized Map<Key, SortedMap<String, GeneratedResource>> entriesFor(PushContext push) {
    if (push.version() > contextVersion) {
      contextVersion = push.version();
      entries = new ConcurrentHashMap<>();
    }
    return push.version() == contextVersion ? entries : new ConcurrentHashMap<>();
  }
}
