package dev.bowline.proxy.config;

import java.util.Optional;

/** A query parameter matcher: present when {@code value} is empty, else the value rule. */
public record QueryMatch(String name, Optional<StringMatch> value) {
  /** Whether a request whose parameter has value {@code actual} (null when absent) matches. */
  public boolean matches(@org.jspecify.annotations.Nullable String actual) {
    return actual != null && value.map(m -> m.matches(actual)).orElse(true);
  }
}
