package dev.bowline.proxy.config;

import org.jspecify.annotations.Nullable;

/**
 * The connection manager's options for what it answers itself and for the request id: {@code
 * local_reply_config}, {@code preserve_external_request_id}, {@code
 * always_set_request_id_in_response}, and {@code request_id_extension} (Envoy's UUID extension,
 * {@code envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig}, the only one there is).
 *
 * @param localReply {@code local_reply_config}; null when absent (local replies as they are)
 * @param preserveExternalRequestId keep an edge request's {@code x-request-id} instead of a new one
 * @param alwaysSetRequestIdInResponse copy the request's {@code x-request-id} onto the response
 * @param packTraceReason {@code pack_trace_reason} (default true): the trace decision is written
 *     into the request id's 15th character (and read from it); false leaves the id as it is
 * @param requestIdSampling {@code use_request_id_for_trace_sampling} (default true): the random
 *     sampling decision is keyed by the request id's first eight hex digits; false leaves it to the
 *     tracer (every request is traced unless an incoming context says otherwise, Envoy's {@code
 *     Reason::Sampling})
 */
public record ReplyOptions(
    dev.bowline.proxy.http.@Nullable LocalReplyMapper localReply,
    boolean preserveExternalRequestId,
    boolean alwaysSetRequestIdInResponse,
    boolean packTraceReason,
    boolean requestIdSampling) {
  /** Envoy's defaults. */
  public static final ReplyOptions DEFAULTS = new ReplyOptions(null, false, false, true, true);
}
