package dev.bowline.proxy.config;

import java.util.Optional;

/**
 * A header matcher: present/absent when {@code value} is empty, else the value rule; {@code invert}
 * flips the result.
 */
public record HeaderMatch(
    String name, Optional<StringMatch> value, boolean presentMatch, boolean invert) {
  /** Whether a request with header value {@code actual} (null when absent) matches. */
  public boolean matches(@org.jspecify.annotations.Nullable String actual) {
    boolean result;
    if (value.isEmpty()) {
      result = (actual != null) == presentMatch;
    } else {
      result = actual != null && value.get().matches(actual);
    }
    return result != invert;
  }
}
