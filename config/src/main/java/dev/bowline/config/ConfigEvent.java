package dev.bowline.config;

import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;

/** A change of the store's content, delivered to subscribers in the order it happened. */
public sealed interface ConfigEvent {
  /** The key of the resource that changed. */
  ResourceKey key();

  /** A resource that was not in the store before. */
  record Added(Resource<?> resource) implements ConfigEvent {
    @Override
    public ResourceKey key() {
      return resource.key();
    }
  }

  /** A new version of a resource replaced {@code previous}. */
  record Updated(Resource<?> previous, Resource<?> resource) implements ConfigEvent {
    @Override
    public ResourceKey key() {
      return resource.key();
    }
  }

  /** A resource left the store. */
  record Deleted(Resource<?> previous) implements ConfigEvent {
    @Override
    public ResourceKey key() {
      return previous.key();
    }
  }
}
