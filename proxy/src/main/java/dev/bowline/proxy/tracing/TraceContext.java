package dev.bowline.proxy.tracing;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The trace context a request carries: W3C {@code traceparent}/{@code tracestate} or Zipkin's B3
 * (multi header {@code x-b3-*}, or the single {@code b3} header). Both formats are read; which is
 * written follows the provider (OpenTelemetry: W3C, Zipkin: B3 multi, as Envoy's tracers do).
 *
 * @param traceIdHigh upper 64 bits of the trace id (0 for a 64-bit B3 id)
 * @param traceIdLow lower 64 bits of the trace id
 * @param spanId the caller's span id
 * @param parentSpanId the caller's parent (B3 {@code x-b3-parentspanid}), 0 when unknown
 * @param sampled the caller's sampling decision; null when it made none (B3 without a flag)
 * @param traceState W3C {@code tracestate}, passed on unchanged ({@code ""} when none)
 */
public record TraceContext(
    long traceIdHigh,
    long traceIdLow,
    long spanId,
    long parentSpanId,
    @Nullable Boolean sampled,
    String traceState) {

  /**
   * The incoming context of {@code h}, the provider's format first: W3C then B3 when {@code w3c},
   * else B3 then W3C. Null when none is present or the present one is malformed (Envoy then starts
   * a new trace).
   */
  public static @Nullable TraceContext extract(HttpHeaders h, boolean w3cFirst) {
    TraceContext c = w3cFirst ? w3c(h) : b3(h);
    return c != null ? c : w3cFirst ? b3(h) : w3c(h);
  }

  /**
   * The incoming sampling decision without building a context (the request path of a sampled-out
   * request allocates nothing): {@code 1} sampled, {@code 0} not, {@code -1} no context or no
   * decision in it.
   */
  public static int incomingSampled(HttpHeaders h) {
    String tp = h.get(TraceHeaders.TRACEPARENT);
    if (tp != null && tp.length() >= 55 && tp.charAt(2) == '-') {
      int flags = Character.digit(tp.charAt(54), 16);
      return flags < 0 ? -1 : flags & 1;
    }
    String s = h.get(TraceHeaders.X_B3_SAMPLED);
    if (s != null) {
      return s.equals("1") || s.equalsIgnoreCase("true") ? 1 : 0;
    }
    if ("1".equals(h.get(TraceHeaders.X_B3_FLAGS))) {
      return 1; // debug
    }
    String b3 = h.get(TraceHeaders.B3);
    if (b3 != null) {
      String state = b3State(b3);
      if (state != null) {
        return state.equals("0") ? 0 : 1;
      }
    }
    return -1;
  }

  /**
   * The sampling state of a single {@code b3} header ({@code 0}, {@code 1}, {@code d}), or null.
   */
  private static @Nullable String b3State(String b3) {
    if (b3.length() == 1) {
      return b3;
    }
    String[] parts = b3.split("-", -1);
    return parts.length >= 3 ? parts[2] : null;
  }

  /** W3C {@code traceparent} (version 00 layout; higher versions read the same prefix). */
  static @Nullable TraceContext w3c(HttpHeaders h) {
    String tp = h.get(TraceHeaders.TRACEPARENT);
    if (tp == null) {
      return null;
    }
    tp = tp.trim();
    if (tp.length() < 55
        || tp.charAt(2) != '-'
        || tp.charAt(35) != '-'
        || tp.charAt(52) != '-'
        || (tp.length() > 55 && tp.charAt(55) != '-')
        || tp.startsWith("ff")) {
      return null;
    }
    if (tp.startsWith("00") && tp.length() != 55) {
      return null;
    }
    long hi = hex(tp, 3, 19);
    long lo = hex(tp, 19, 35);
    long span = hex(tp, 36, 52);
    int flags = (int) hex(tp, 53, 55);
    if (hi == BAD || lo == BAD || span == BAD || flags == BAD) {
      return null;
    }
    if ((hi == 0 && lo == 0) || span == 0) {
      return null;
    }
    String state = h.get(TraceHeaders.TRACESTATE);
    return new TraceContext(hi, lo, span, 0, (flags & 1) == 1, state == null ? "" : state);
  }

  /** B3, multi header first, then the single {@code b3} header. */
  static @Nullable TraceContext b3(HttpHeaders h) {
    String traceId = h.get(TraceHeaders.X_B3_TRACEID);
    String spanId = h.get(TraceHeaders.X_B3_SPANID);
    if (traceId != null && spanId != null) {
      String sampledValue = h.get(TraceHeaders.X_B3_SAMPLED);
      Boolean sampled =
          "1".equals(h.get(TraceHeaders.X_B3_FLAGS))
              ? Boolean.TRUE
              : sampledValue == null
                  ? null
                  : sampledValue.equals("1") || sampledValue.equalsIgnoreCase("true");
      String parent = h.get(TraceHeaders.X_B3_PARENTSPANID);
      return b3(traceId, spanId, parent, sampled);
    }
    String single = h.get(TraceHeaders.B3);
    if (single == null) {
      return null;
    }
    String[] parts = single.trim().split("-", -1);
    if (parts.length < 2) {
      return null; // a bare sampling state carries no context
    }
    Boolean sampled = parts.length >= 3 ? !parts[2].equals("0") : null; // "1" or "d" (debug) sample
    return b3(parts[0], parts[1], parts.length >= 4 ? parts[3] : null, sampled);
  }

  private static @Nullable TraceContext b3(
      String traceId, String spanId, @Nullable String parent, @Nullable Boolean sampled) {
    long hi;
    long lo;
    if (traceId.length() == 32) {
      hi = hex(traceId, 0, 16);
      lo = hex(traceId, 16, 32);
    } else if (traceId.length() == 16) {
      hi = 0;
      lo = hex(traceId, 0, 16);
    } else {
      return null;
    }
    long span = spanId.length() == 16 ? hex(spanId, 0, 16) : BAD;
    long p =
        parent == null || parent.isEmpty() ? 0 : parent.length() == 16 ? hex(parent, 0, 16) : BAD;
    if (hi == BAD || lo == BAD || span == BAD || p == BAD || (hi == 0 && lo == 0) || span == 0) {
      return null;
    }
    return new TraceContext(hi, lo, span, p, sampled, "");
  }

  private static final long BAD = Long.MIN_VALUE + 7; // a value no 16-digit parse returns alone

  /** Lower-case or upper-case hex digits {@code [from, to)} of {@code s}; {@link #BAD} if not. */
  static long hex(String s, int from, int to) {
    long v = 0;
    for (int i = from; i < to; i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0) {
        return BAD;
      }
      v = (v << 4) | d;
    }
    return v;
  }

  /** Writes W3C {@code traceparent} (and {@code tracestate} when there is one) for a span. */
  public static void injectW3c(
      HttpHeaders h, long traceHigh, long traceLow, long spanId, boolean sampled, String state) {
    h.set(
        "traceparent",
        "00-"
            + hex16(traceHigh)
            + hex16(traceLow)
            + "-"
            + hex16(spanId)
            + (sampled ? "-01" : "-00"));
    if (!state.isEmpty()) {
      h.set(TraceHeaders.TRACESTATE, state);
    }
  }

  /** Writes B3 multi headers for a span; a single {@code b3} header is removed (one format out). */
  public static void injectB3(
      HttpHeaders h, long traceHigh, long traceLow, long spanId, long parentId, boolean sampled) {
    h.set(
        TraceHeaders.X_B3_TRACEID,
        traceHigh == 0 ? hex16(traceLow) : hex16(traceHigh) + hex16(traceLow));
    h.set(TraceHeaders.X_B3_SPANID, hex16(spanId));
    if (parentId != 0) {
      h.set(TraceHeaders.X_B3_PARENTSPANID, hex16(parentId));
    } else {
      h.remove(TraceHeaders.X_B3_PARENTSPANID);
    }
    h.set(TraceHeaders.X_B3_SAMPLED, sampled ? "1" : "0");
    h.remove(TraceHeaders.B3);
  }

  /** Sixteen lower-case hex digits. */
  public static String hex16(long v) {
    String s = Long.toHexString(v);
    return s.length() == 16 ? s : "0".repeat(16 - s.length()) + s;
  }

  /** The 32-digit (or, for a 64-bit id, 16-digit) trace id. */
  public static String traceIdHex(long high, long low) {
    return high == 0 ? hex16(low) : hex16(high) + hex16(low);
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%s/%s sampled=%s",
        traceIdHex(traceIdHigh, traceIdLow),
        hex16(spanId),
        sampled);
  }
}
