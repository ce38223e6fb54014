package dev.bowline.proxy.config;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * How a connection manager rewrites the request path before filters and routing see it ({@code
 * normalize_path}, {@code merge_slashes}, {@code path_with_escaped_slashes_action}), in Envoy's
 * order: escaped slashes first, then RFC 3986 normalization, then merging slashes. Istio turns
 * normalization on everywhere (MeshConfig {@code pathNormalization}, {@code BASE} by default) so
 * that an AuthorizationPolicy on {@code /admin} also holds for {@code /public/../admin} and {@code
 * /%61dmin}. The query is never touched. A path that needs none of it is returned as it is, without
 * allocating.
 *
 * @param normalize {@code normalize_path}: RFC 3986 normalization as Envoy does it with Chromium's
 *     URL canonicalizer: {@code \} is a {@code /}, percent-encoded unreserved characters are
 *     decoded, other escapes get upper-case hex, characters not allowed in a path are
 *     percent-encoded, and {@code .} and {@code ..} segments are removed
 * @param mergeSlashes {@code merge_slashes}: {@code //a///b} is {@code /a/b}
 * @param escapedSlashes {@code path_with_escaped_slashes_action} for {@code %2F} and {@code %5C}
 */
public record PathNormalization(
    boolean normalize, boolean mergeSlashes, EscapedSlashes escapedSlashes) {

  /** Nothing is rewritten (Envoy's defaults). */
  public static final PathNormalization NONE =
      new PathNormalization(false, false, EscapedSlashes.KEEP_UNCHANGED);

  /** Envoy's {@code PathWithEscapedSlashesAction}. */
  public enum EscapedSlashes {
    KEEP_UNCHANGED,
    REJECT_REQUEST,
    UNESCAPE_AND_REDIRECT,
    UNESCAPE_AND_FORWARD
  }

  /** What to do with a request. */
  public sealed interface Outcome {}

  /** Go on with {@code path} (the same instance when nothing changed). */
  public record Continue(String path) implements Outcome {}

  /**
   * Answer 400: the path cannot be normalized, or carries escaped slashes that are refused (Envoy
   * reports both as {@code path_normalization_failed}).
   */
  public record Reject() implements Outcome {}

  /** Redirect the client to {@code path} (escaped slashes with {@code UNESCAPE_AND_REDIRECT}). */
  public record Redirect(String path) implements Outcome {}

  /** Whether any rewriting is configured. */
  public boolean active() {
    return normalize || mergeSlashes || escapedSlashes != EscapedSlashes.KEEP_UNCHANGED;
  }

  /** Applies this configuration to the origin-form {@code path} (with its query). */
  public Outcome apply(String path) {
    boolean redirect = false;
    if (escapedSlashes != EscapedSlashes.KEEP_UNCHANGED) {
      String unescaped = unescapeSlashes(path);
      if (unescaped != path) {
        switch (escapedSlashes) {
          case REJECT_REQUEST -> {
            return new Reject();
          }
          case UNESCAPE_AND_REDIRECT -> redirect = true;
          default -> {}
        }
        path = unescaped;
      }
    }
    if (normalize) {
      String n = normalizePath(path);
      if (n == null) {
        return new Reject();
      }
      path = n;
    }
    if (mergeSlashes) {
      path = mergeSlashes(path);
    }
    return redirect ? new Redirect(path) : new Continue(path);
  }

  private static int pathEnd(String path) {
    int q = path.indexOf('?');
    return q < 0 ? path.length() : q;
  }

  /** {@code %2F} and {@code %5C} (any case) in the path part decoded; the same string if none. */
  static String unescapeSlashes(String path) {
    int end = pathEnd(path);
    int i = path.indexOf('%');
    if (i < 0 || i >= end) {
      return path;
    }
    StringBuilder sb = null;
    int copied = 0;
    for (; i + 2 < end; i++) {
      if (path.charAt(i) != '%') {
        continue;
      }
      char c1 = path.charAt(i + 1);
      char c2 = Character.toUpperCase(path.charAt(i + 2));
      char decoded = c1 == '2' && c2 == 'F' ? '/' : c1 == '5' && c2 == 'C' ? '\\' : 0;
      if (decoded == 0) {
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder(path.length());
      }
      sb.append(path, copied, i).append(decoded);
      copied = i + 3;
      i += 2;
    }
    if (sb == null) {
      return path;
    }
    return sb.append(path, copied, path.length()).toString();
  }

  /** Consecutive slashes in the path part merged into one; the same string if there are none. */
  static String mergeSlashes(String path) {
    int end = pathEnd(path);
    int dup = path.indexOf("//");
    if (dup < 0 || dup >= end) {
      return path;
    }
    StringBuilder sb = new StringBuilder(path.length());
    for (int i = 0; i < end; i++) {
      char c = path.charAt(i);
      if (c == '/' && !sb.isEmpty() && sb.charAt(sb.length() - 1) == '/') {
        continue;
      }
      sb.append(c);
    }
    return sb.append(path, end, path.length()).toString();
  }

  /**
   * RFC 3986 normalization of the path part (section 6.2.2 and the removal of dot segments, 5.2.4),
   * as Chromium's canonicalizer does it for Envoy; null when the path cannot be normalized.
   */
  static @Nullable String normalizePath(String path) {
    int end = pathEnd(path);
    if (end > 0 && path.charAt(0) == '/' && !needsWork(path, end)) {
      return path;
    }
    StringBuilder out = new StringBuilder(end + 8);
    out.append('/');
    int i = end > 0 && (path.charAt(0) == '/' || path.charAt(0) == '\\') ? 1 : 0;
    // segment by segment: each is canonicalized, then '.' and '..' are resolved
    while (i <= end) {
      int segStart = out.length();
      int j = i;
      while (j < end && path.charAt(j) != '/' && path.charAt(j) != '\\') {
        j++;
      }
      if (!canonicalSegment(path, i, j, out)) {
        return null;
      }
      String seg = out.substring(segStart);
      boolean last = j >= end;
      if (seg.equals(".")) {
        out.setLength(segStart); // "/a/./b" -> "/a/b"; a trailing "." leaves "/a/"
      } else if (seg.equals("..")) {
        out.setLength(segStart);
        // drop the previous segment: out ends with "/prev/" -> keep up to the slash before prev
        int prevSlash = out.length() - 1; // the slash that ended the previous segment
        if (prevSlash > 0) {
          int before = out.lastIndexOf("/", prevSlash - 1);
          out.setLength(before + 1);
        }
      } else if (!last) {
        out.append('/');
      }
      if (last) {
        break;
      }
      i = j + 1;
    }
    return out.append(path, end, path.length()).toString();
  }

  private static boolean needsWork(String path, int end) {
    for (int i = 0; i < end; i++) {
      char c = path.charAt(i);
      if (c == '%' || c == '\\' || escape(c)) {
        return true;
      }
      if (c == '.' && path.charAt(i - 1) == '/') {
        // "/." or "/.." as a whole segment
        int n = i + 1 < end && path.charAt(i + 1) == '.' ? i + 2 : i + 1;
        if (n == end || path.charAt(n) == '/') {
          return true;
        }
      }
    }
    return false;
  }

  /** Appends the canonical form of {@code path[from, to)}; false when it cannot be. */
  private static boolean canonicalSegment(String path, int from, int to, StringBuilder out) {
    for (int i = from; i < to; i++) {
      char c = path.charAt(i);
      if (c == '%') {
        int hi = i + 2 < to ? Character.digit(path.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(path.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          out.append('%'); // not an escape: kept as it is, as Chromium does
          continue;
        }
        int v = hi * 16 + lo;
        if (unreserved(v)) {
          out.append((char) v);
        } else {
          out.append('%').append(HEX[hi]).append(HEX[lo]);
        }
        i += 2;
      } else if (c >= 0x80) {
        int cp = path.codePointAt(i);
        if (Character.isSurrogate(c) && Character.charCount(cp) == 1) {
          return false; // an unpaired surrogate cannot be encoded
        }
        byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
          out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
        i += Character.charCount(cp) - 1;
      } else if (escape(c)) {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
      } else {
        out.append(c);
      }
    }
    return true;
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static boolean unreserved(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '.'
        || c == '_'
        || c == '~';
  }

  /** ASCII characters a canonical path percent-encodes. */
  private static boolean escape(char c) {
    return c <= 0x20 || c == 0x7f || c >= 0x80 || c == '"' || c == '<' || c == '>' || c == '`'
        || c == '{' || c == '}' || c == '#';
  }
}
