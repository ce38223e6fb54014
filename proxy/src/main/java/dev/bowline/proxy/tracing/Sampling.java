package dev.bowline.proxy.tracing;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.random.RandomGenerator;

/**
 * Envoy's trace decision carried in {@code x-request-id} (its UUID request-id extension): the
 * UUID's version digit (index 14) records why a request is traced — {@code 9} random sampling,
 * {@code a} forced by {@code x-envoy-force-trace}, {@code b} forced by the client ({@code
 * x-client-trace-id}), {@code 4} not traced (unless {@code pack_trace_reason} is off). A proxy that
 * sees a decision keeps it; otherwise it decides (Envoy's {@code mutateTracingRequestHeader}):
 * client sampling for {@code x-client-trace-id}, then the force header, then random sampling keyed
 * by the request id (its first eight hex digits mod 10,000, so every proxy on the path decides the
 * same for the same request), then overall sampling may veto. Allocation happens only when the id
 * is rewritten.
 */
public final class Sampling {
  /** The version digit of a request id: no trace decision. */
  public static final char NO_TRACE = '4';

  /** Traced by random sampling. */
  public static final char SAMPLED = '9';

  /** Traced because of {@code x-client-trace-id} (Envoy's {@code TRACE_CLIENT}). */
  public static final char CLIENT = 'b';

  /** Traced because of {@code x-envoy-force-trace} (Envoy's {@code TRACE_FORCED}). */
  public static final char FORCED = 'a';

  private Sampling() {}

  /**
   * Whether the request id {@code rid} carries the trace reason {@code x-envoy-force-trace} gives
   * (Envoy's {@code ServiceForced}: what the access log's {@code traceable_filter} logs).
   */
  public static boolean serviceForced(@org.jspecify.annotations.Nullable String rid) {
    return rid != null && rid.length() == 36 && Character.toLowerCase(rid.charAt(14)) == FORCED;
  }

  /**
   * Applies Envoy's decision to {@code h}'s {@code x-request-id} and says whether the request is
   * traced, with the UUID extension's defaults. Without a well-formed request id nothing is decided
   * ({@code false}).
   */
  public static boolean decide(HttpHeaders h, TracingConfig c, RandomGenerator random) {
    return decide(h, c, random, true, true) != NO_TRACE;
  }

  /**
   * Envoy's {@code mutateTracingRequestHeader} with its UUID request id extension: the trace reason
   * of the request with head {@code h} ({@link #NO_TRACE}, {@link #SAMPLED}, {@link #CLIENT} or
   * {@link #FORCED}). A reason packed in the request id stands; else {@code x-client-trace-id}
   * (client sampling), {@code x-envoy-force-trace}, then random sampling keyed by the id's first
   * eight hex digits decide; overall sampling, keyed alike, can veto. With {@code pack} the reason
   * is read from and written into the id's 15th character (a changed id is one new String);
   * without, the id is never read for a reason nor changed. Without {@code byRequestId} ({@code
   * use_request_id_for_trace_sampling: false}) Envoy decides nothing here and reports {@code
   * Sampling}: the tracer's own rules decide. Without a well-formed request id: {@link #NO_TRACE}.
   */
  public static char decide(
      HttpHeaders h, TracingConfig c, RandomGenerator random, boolean pack, boolean byRequestId) {
    if (!byRequestId) {
      return SAMPLED;
    }
    String rid = h.get(TraceHeaders.X_REQUEST_ID);
    if (rid == null || rid.length() != 36 || rid.charAt(14) == '-') {
      return NO_TRACE;
    }
    long key = TraceContext.hex(rid, 0, 8);
    if (key < 0) {
      return NO_TRACE;
    }
    int mod = (int) (key % TracingConfig.ALL);
    char packed = pack ? Character.toLowerCase(rid.charAt(14)) : NO_TRACE;
    char reason = isReason(packed) ? packed : NO_TRACE;
    char next = reason;
    if (reason == NO_TRACE) {
      if (h.contains(TraceHeaders.X_CLIENT_TRACE_ID)
          && random.nextInt(TracingConfig.ALL) < c.clientSampling()) {
        next = CLIENT;
      } else if (h.contains(TraceHeaders.X_ENVOY_FORCE_TRACE)) {
        next = FORCED;
      } else if (mod < c.randomSampling()) {
        next = SAMPLED;
      }
    }
    if (next != NO_TRACE && mod >= c.overallSampling()) {
      next = NO_TRACE;
    }
    if (pack && next != reason) {
      h.set(TraceHeaders.X_REQUEST_ID, rid.substring(0, 14) + next + rid.substring(15));
    }
    return next;
  }

  private static boolean isReason(char c) {
    return c == SAMPLED || c == CLIENT || c == FORCED;
  }

  /** The trace reason digit of {@code requestId} (index 14), or {@code 0} when malformed. */
  public static char reason(String requestId) {
    return requestId.length() == 36 ? Character.toLowerCase(requestId.charAt(14)) : 0;
  }
}
