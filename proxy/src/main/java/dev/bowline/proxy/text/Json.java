package dev.bowline.proxy.text;

/**
 * JSON strings appended straight to a {@link StringBuilder}: the one escaper behind the proxy's
 * hand-written JSON (JSON access-log lines, Zipkin span exports). gson, which the proxy already
 * has, escapes only inside a {@code JsonWriter}, one per document and a {@code Writer} around the
 * builder, which an access-log line per request cannot afford; this allocates nothing.
 */
public final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /**
   * Appends {@code s} to {@code sb} as a JSON string, quotes included (RFC 8259): {@code "} and
   * {@code \} escaped, control characters as {@code \n}, {@code \r}, {@code \t} or a six-character
   * escape (backslash, {@code u00}, two hex digits), everything else as it is.
   */
  public static void quote(StringBuilder sb, CharSequence s) {
    sb.append('"');
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        sb.append(c);
        continue;
      }
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    sb.append('"');
  }
}
