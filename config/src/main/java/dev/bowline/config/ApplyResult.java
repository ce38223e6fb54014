package dev.bowline.config;

import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;
import java.util.List;

/**
 * What one apply did: resources added or changed (with their new versions), resources that were
 * already so, keys deleted, and the changes refused.
 */
public record ApplyResult(
    List<Resource<?>> applied,
    List<ResourceKey> unchanged,
    List<ResourceKey> deleted,
    List<Rejection> rejected) {
  public ApplyResult {
    applied = List.copyOf(applied);
    unchanged = List.copyOf(unchanged);
    deleted = List.copyOf(deleted);
    rejected = List.copyOf(rejected);
  }

  /** True when nothing was refused. */
  public boolean ok() {
    return rejected.isEmpty();
  }
}
