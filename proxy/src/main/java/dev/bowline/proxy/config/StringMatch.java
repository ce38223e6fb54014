package dev.bowline.proxy.config;

import java.util.regex.Pattern;

/** Envoy's {@code StringMatcher}. */
public sealed interface StringMatch {
  boolean matches(String value);

  record Exact(String value, boolean ignoreCase) implements StringMatch {
    @Override
    public boolean matches(String v) {
      return ignoreCase ? v.equalsIgnoreCase(value) : v.equals(value);
    }
  }

  record Prefix(String value, boolean ignoreCase) implements StringMatch {
    @Override
    public boolean matches(String v) {
      return v.regionMatches(ignoreCase, 0, value, 0, value.length());
    }
  }

  record Suffix(String value, boolean ignoreCase) implements StringMatch {
    @Override
    public boolean matches(String v) {
      return v.length() >= value.length()
          && v.regionMatches(ignoreCase, v.length() - value.length(), value, 0, value.length());
    }
  }

  record Contains(String value) implements StringMatch {
    @Override
    public boolean matches(String v) {
      return v.contains(value);
    }
  }

  record Regex(Pattern pattern) implements StringMatch {
    @Override
    public boolean matches(String v) {
      return pattern.matcher(v).matches();
    }
  }
}
