package dev.bowline.config;

import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.model.Spec;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything a store held at one moment, with the store's version at that moment: what a push
 * context is built from. Immutable; resources ordered by key.
 *
 * @param version the store's resource version when the snapshot was taken
 * @param resources every resource in force
 */
public record ConfigSnapshot(long version, Map<ResourceKey, Resource<?>> resources) {
  public ConfigSnapshot {
    resources = Collections.unmodifiableMap(new TreeMap<>(resources));
  }

  /** The resource for {@code key}. */
  public Optional<Resource<?>> get(ResourceKey key) {
    return Optional.ofNullable(resources.get(key));
  }

  /** Every resource whose spec is a {@code type}, ordered by key. */
  public <S extends Spec> java.util.List<Resource<S>> list(Class<S> type) {
    return resources.values().stream().flatMap(r -> r.as(type).stream()).toList();
  }
}
