package dev.bowline.api;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one YAML/JSON text held: the resources that were read and the documents that were rejected.
 * A bad document never hides the good ones around it.
 */
public record Decoded(List<Resource<?>> resources, List<Rejected> rejected) {
  public Decoded {
    resources = List.copyOf(resources);
    rejected = List.copyOf(rejected);
  }

  /** Every error message, in document order. */
  public List<Message> errors() {
    return rejected.stream().flatMap(r -> r.errors().stream()).toList();
  }

  /**
   * A document that could not be read.
   *
   * @param source where the text came from, e.g. a file path
   * @param document its position in the text, from 1
   * @param key the resource it names, when kind and name could be read
   * @param errors why, each naming the field
   */
  public record Rejected(
      String source, int document, @Nullable ResourceKey key, List<Message> errors) {
    public Rejected {
      errors = List.copyOf(errors);
    }
  }
}
