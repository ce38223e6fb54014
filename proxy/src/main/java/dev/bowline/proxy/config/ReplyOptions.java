package dev.bowline.proxy.config;

import org.jspecify.annotations.Nullable;

/**
 * The connection manager's options for what it answers itself and for the request id: {@code
 * local_reply_config}, {@code preserve_external_request_id}, {@code
 * always_set_request_id_in_response}.
 *
 * @param localReply {@code local_reply_config}; null when absent (local replies as they are)
 * @param preserveExternalRequestId keep an edge request's {@code x-request-id} instead of a new one
 * @param alwaysSetRequestIdInResponse copy the request's {@code x-request-id} onto the response
 */
public record ReplyOptions(
    dev.bowline.proxy.http.@Nullable LocalReplyMapper localReply,
    boolean preserveExternalRequestId,
    boolean alwaysSetRequestIdInResponse) {
  /** Envoy's defaults. */
  public static final ReplyOptions DEFAULTS = new ReplyOptions(null, false, false);
}
