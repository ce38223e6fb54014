package dev.bowline.proxy.config;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A route's match: a path rule, header matchers and query parameter matchers, all of which must
 * hold.
 */
public record RouteMatch(
    PathMatch path, boolean caseSensitive, List<HeaderMatch> headers, List<QueryMatch> query) {
  public RouteMatch {
    headers = List.copyOf(headers);
    query = List.copyOf(query);
  }

  /** How the path (without query) is matched. */
  public sealed interface PathMatch {
    /** {@code prefix}: the path starts with it. */
    record Prefix(String prefix) implements PathMatch {}

    /** {@code path}: the path equals it. */
    record Exact(String path) implements PathMatch {}

    /** {@code safe_regex}: the regex matches the whole path. */
    record Regex(Pattern pattern) implements PathMatch {}

    /** {@code path_separated_prefix}: equals it, or continues with {@code /}. */
    record SeparatedPrefix(String prefix) implements PathMatch {}

    /**
     * {@code connect_matcher}: matches CONNECT requests only (they have no path), which no other
     * path rule matches.
     */
    record Connect() implements PathMatch {}
  }

  /** Whether the request is matched by the path rule; a CONNECT request only by {@link Connect}. */
  public boolean matchesPath(String path, boolean connect) {
    if (this.path instanceof PathMatch.Connect) {
      return connect;
    }
    return !connect && matchesPath(path);
  }

  /** Whether {@code path} (without the query) is matched by the path rule. */
  public boolean matchesPath(String path) {
    return switch (this.path) {
      case PathMatch.Prefix p ->
          caseSensitive
              ? path.startsWith(p.prefix())
              : path.regionMatches(true, 0, p.prefix(), 0, p.prefix().length());
      case PathMatch.Exact e ->
          caseSensitive ? path.equals(e.path()) : path.equalsIgnoreCase(e.path());
      case PathMatch.Regex r -> r.pattern().matcher(path).matches();
      case PathMatch.SeparatedPrefix s ->
          (caseSensitive
                  ? path.startsWith(s.prefix())
                  : path.toLowerCase(Locale.ROOT).startsWith(s.prefix().toLowerCase(Locale.ROOT)))
              && (path.length() == s.prefix().length() || path.charAt(s.prefix().length()) == '/');
      case PathMatch.Connect c -> false;
    };
  }
}
