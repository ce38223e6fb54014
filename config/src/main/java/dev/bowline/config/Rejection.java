package dev.bowline.config;

import dev.bowline.api.Message;
import dev.bowline.api.ResourceKey;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A change the store refused.
 *
 * @param source where it came from (a file path, {@code api})
 * @param key the resource, when the document named one
 * @param errors why, each naming the resource and field
 * @param keptPrevious true when an earlier valid version of {@code key} stays in force
 * @param at when it was refused
 */
public record Rejection(
    String source,
    @Nullable ResourceKey key,
    List<Message> errors,
    boolean keptPrevious,
    Instant at) {
  public Rejection {
    errors = List.copyOf(errors);
  }
}
