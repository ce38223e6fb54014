package dev.bowline.api;

import java.util.ArrayList;
import java.util.List;

/**
 * What validating a resource found: errors (the resource is rejected) and warnings (it is accepted,
 * but something looks wrong). Never stops at the first finding.
 */
public record Validation(List<Message> errors, List<Message> warnings) {
  private static final Validation OK = new Validation(List.of(), List.of());

  public Validation {
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
  }

  /** No errors and no warnings. */
  public static Validation ok() {
    return OK;
  }

  /** Only errors. */
  public static Validation ofErrors(List<Message> errors) {
    return new Validation(errors, List.of());
  }

  /** True when there is no error (warnings allowed). */
  public boolean isValid() {
    return errors.isEmpty();
  }

  /** Both findings together. */
  public Validation plus(Validation other) {
    if (other.errors.isEmpty() && other.warnings.isEmpty()) {
      return this;
    }
    List<Message> e = new ArrayList<>(errors);
    e.addAll(other.errors);
    List<Message> w = new ArrayList<>(warnings);
    w.addAll(other.warnings);
    return new Validation(e, w);
  }
}
