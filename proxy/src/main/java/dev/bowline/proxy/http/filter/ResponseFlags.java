package dev.bowline.proxy.http.filter;

/**
 * The response flags of one stream as an int bit set of {@link ResponseFlag#bit()}: the connection
 * manager, the router and filters (fault, circuit breaking, ...) record why a stream ended in it
 * (an int field of the stream, no object per request), access logs and metrics read it through
 * {@link StreamInfo#responseFlags()} and write Envoy's text with these functions.
 */
public final class ResponseFlags {
  private static final ResponseFlag[] ALL = ResponseFlag.values();

  private ResponseFlags() {}

  /** Whether {@code flag} is in {@code bits}. */
  public static boolean has(int bits, ResponseFlag flag) {
    return (bits & flag.bit()) != 0;
  }

  /** Envoy's text: the short names comma-separated in Envoy's order, {@code -} when none. */
  public static String format(int bits) {
    if (bits == 0) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    appendTo(sb, bits);
    return sb.toString();
  }

  /** Appends Envoy's text of {@code bits} to {@code sb} (nothing when there are none). */
  public static void appendTo(StringBuilder sb, int bits) {
    boolean first = true;
    for (ResponseFlag f : ALL) {
      if ((bits & f.bit()) != 0) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        sb.append(f.name());
      }
    }
  }
}
