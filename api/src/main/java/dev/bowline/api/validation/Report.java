package dev.bowline.api.validation;

import dev.bowline.api.Message;
import dev.bowline.api.Validation;
import java.util.ArrayList;
import java.util.List;

/** Collects the findings about one resource; paths are relative to the resource root. */
final class Report {
  private final String resource;
  private final List<Message> errors = new ArrayList<>();
  private final List<Message> warnings = new ArrayList<>();

  Report(String resource) {
    this.resource = resource;
  }

  void error(String path, String text) {
    errors.add(new Message(resource, path, text));
  }

  void warn(String path, String text) {
    warnings.add(new Message(resource, path, text));
  }

  Validation build() {
    return new Validation(errors, warnings);
  }
}
