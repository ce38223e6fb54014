package dev.bowline.proxy.http.filter;

/**
 * The response flags of one stream: the one place the connection manager, the router and filters
 * (fault, circuit breaking, ...) record why a stream ended, and the one place access logs and
 * metrics read them. Mutable, owned by the stream's event loop.
 */
public final class ResponseFlags {
  private static final ResponseFlag[] ALL = ResponseFlag.values();
  private int bits;

  /** Records {@code flag}. */
  public void set(ResponseFlag flag) {
    bits |= flag.bit();
  }

  /** Whether {@code flag} was recorded. */
  public boolean has(ResponseFlag flag) {
    return (bits & flag.bit()) != 0;
  }

  /** Every recorded flag as a bit set of {@link ResponseFlag#bit()}. */
  public int bits() {
    return bits;
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

  /** Appends Envoy's text of these flags to {@code sb} (nothing when there are none). */
  public void appendTo(StringBuilder sb) {
    appendTo(sb, bits);
  }

  private static void appendTo(StringBuilder sb, int bits) {
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

  @Override
  public String toString() {
    return format(bits);
  }
}
