package dev.bowline.api.model;

import org.jspecify.annotations.Nullable;

/**
 * How a string is matched: exactly one of {@code exact}, {@code prefix} or {@code regex} (RE2) is
 * set on the wire; {@link #match()} gives the typed alternative.
 */
public record StringMatch(@Nullable String exact, @Nullable String prefix, @Nullable String regex) {
  public StringMatch {
    Freeze.atMostOne("exact, prefix, regex", exact, prefix, regex);
  }

  /** The alternative that is set, or {@code null} for an empty match. */
  public @Nullable Match match() {
    if (exact != null) {
      return new Exact(exact);
    }
    if (prefix != null) {
      return new Prefix(prefix);
    }
    return regex == null ? null : new Regex(regex);
  }

  /** One way to match a string. */
  public sealed interface Match {
    /** The string to compare with. */
    String value();
  }

  /** The whole string equals {@code value}. */
  public record Exact(String value) implements Match {}

  /** The string starts with {@code value}. */
  public record Prefix(String value) implements Match {}

  /** The whole string matches the RE2 regular expression {@code value}. */
  public record Regex(String value) implements Match {}
}
