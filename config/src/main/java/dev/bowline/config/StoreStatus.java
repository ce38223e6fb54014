package dev.bowline.config;

import dev.bowline.api.Kind;
import dev.bowline.api.Message;
import java.util.List;
import java.util.Map;

/**
 * What the store holds and what it refused, for {@code /debug/configz} and the CLI.
 *
 * @param resources resources in force, by kind
 * @param rejections changes currently refused (cleared when a valid version of the same resource or
 *     a fixed source arrives)
 * @param warnings validation warnings of the resources in force
 * @param version the store's current resource version
 */
public record StoreStatus(
    Map<Kind, Integer> resources,
    List<Rejection> rejections,
    List<Message> warnings,
    long version) {
  public StoreStatus {
    resources = Map.copyOf(resources);
    rejections = List.copyOf(rejections);
    warnings = List.copyOf(warnings);
  }

  /** Resources in force, all kinds together. */
  public int total() {
    return resources.values().stream().mapToInt(Integer::intValue).sum();
  }
}
