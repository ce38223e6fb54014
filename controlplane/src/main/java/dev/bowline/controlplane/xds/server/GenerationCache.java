package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import dev.bowline.controlplane.xds.gen.XdsGenerator;
import io.envoyproxy.envoy.config.core.v3.ControlPlane;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Generated resources per (push context, equivalence class, type, requested names): the second
 * proxy of a class gets the first one's output, packed and with its SotW response prebuilt ({@link
 * Generated}). Holds only the current push context's entries; a newer context drops them all.
 * Lock-free: the current generation is one reference.
 */
final class GenerationCache {
  private record Key(EquivalenceClass cls, String typeUrl, ResourceNames names) {}

  private record Entries(long version, Map<Key, Generated> map) {}

  private final XdsMetrics metrics;
  private final ControlPlane controlPlane;
  private final AtomicReference<Entries> entries =
      new AtomicReference<>(new Entries(-1, new ConcurrentHashMap<>()));

  GenerationCache(XdsMetrics metrics, ControlPlane controlPlane) {
    this.metrics = metrics;
    this.controlPlane = controlPlane;
  }

  Generated get(
      Proxy proxy, PushContext push, String typeUrl, ResourceNames names, XdsGenerator generator) {
    Map<Key, Generated> map = entriesFor(push);
    Key key = new Key(EquivalenceClass.of(proxy, push), typeUrl, names);
    Generated hit = map.get(key);
    if (hit != null) {
      metrics.cacheRead(true);
      return hit;
    }
    // computeIfAbsent: when many equivalent proxies ask at once (a reconnect storm), one generates
    // and the others wait for its result instead of generating the same thing in parallel.
    boolean[] generated = {false};
    Generated value =
        map.computeIfAbsent(
            key,
            k -> {
              generated[0] = true;
              return Generated.of(
                  generator.generate(proxy, push, names), typeUrl, push.version(), controlPlane);
            });
    metrics.cacheRead(!generated[0]);
    return value;
  }

  private Map<Key, Generated> entriesFor(PushContext push) {
    while (true) {
      Entries current = entries.get();
      if (push.version() == current.version()) {
        return current.map();
      }
      if (push.version() < current.version()) {
        return new ConcurrentHashMap<>(); // an older context: generate, don't keep
      }
      Entries next = new Entries(push.version(), new ConcurrentHashMap<>());
      if (entries.compareAndSet(current, next)) {
        return next.map();
      }
    }
  }
}
