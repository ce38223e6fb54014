package dev.bowline.proxy.transport;

import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Shared {@link AsciiString} header names, each in lower case and in its usual capitalised spelling
 * ({@code content-type}, {@code Content-Type}), found by their exact bytes. A decoder hands out the
 * shared name instead of a copy: no allocation, and a hash computed once (Netty's header map and
 * encoder use it). Immutable; any thread.
 */
final class HeaderNameTable {
  private final AsciiString[][] byLength;
  // each capitalised spelling (the very object) to its lower-case name
  private final java.util.IdentityHashMap<AsciiString, AsciiString> lower =
      new java.util.IdentityHashMap<>();

  /** A table of {@code lowerCase} names and their capitalised spellings. */
  HeaderNameTable(List<AsciiString> lowerCase) {
    List<AsciiString> names = new ArrayList<>();
    for (AsciiString lower : lowerCase) {
      names.add(lower);
      AsciiString capitalised = AsciiString.cached(capitalised(lower.toString()));
      names.add(capitalised);
      this.lower.put(capitalised, lower);
    }
    int max = 0;
    for (AsciiString n : names) {
      max = Math.max(max, n.length());
    }
    byLength = new AsciiString[max + 1][];
    for (int len = 0; len <= max; len++) {
      final int l = len;
      byLength[len] =
          names.stream().filter(n -> n.length() == l).distinct().toArray(AsciiString[]::new);
    }
  }

  /**
   * The lower-case name of {@code name} when it is (the very object of) one of this table's
   * capitalised spellings, else null.
   */
  @Nullable AsciiString lowerCaseOf(AsciiString name) {
    return lower.get(name);
  }

  /** The shared name whose bytes are exactly these, or null. */
  @Nullable AsciiString find(byte[] sb, int start, int length) {
    if (length <= 0 || length >= byLength.length) {
      return null;
    }
    for (AsciiString n : byLength[length]) {
      if (n.byteAt(0) == sb[start] && sameBytes(n.array(), n.arrayOffset(), sb, start, length)) {
        return n;
      }
    }
    return null;
  }

  // A plain loop: these names are 2-29 bytes, where Arrays.equals' vectorised mismatch costs more
  // in set-up than it saves (it was 4% of the event loop's Java samples).
  private static boolean sameBytes(byte[] a, int aStart, byte[] b, int bStart, int length) {
    for (int i = 1; i < length; i++) {
      if (a[aStart + i] != b[bStart + i]) {
        return false;
      }
    }
    return true;
  }

  /** {@code content-type} as it is usually sent: {@code Content-Type} (and {@code ETag}). */
  static String capitalised(String lower) {
    return switch (lower) {
      case "etag" -> "ETag";
      case "te" -> "TE";
      case "www-authenticate" -> "WWW-Authenticate";
      case "x-xss-protection" -> "X-XSS-Protection";
      default -> {
        StringBuilder b = new StringBuilder(lower.length());
        boolean up = true;
        for (int i = 0; i < lower.length(); i++) {
          char c = lower.charAt(i);
          b.append(up ? Character.toUpperCase(c) : c);
          up = c == '-';
        }
        yield b.toString();
      }
    };
  }
}
