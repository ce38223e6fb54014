package dev.bowline.proxy.stats;

import java.util.Map;

/**
 * The counters of an HTTP codec that Bowline keeps (Envoy's {@code Http1::CodecStats} and {@code
 * Http2::CodecStats}, under {@code http1.} and {@code http2.}), resolved once per proxy: every
 * connection manager shares them, as every Envoy connection manager on a listener's scope does.
 *
 * @param droppedHeadersWithUnderscores request header and trailer fields dropped under {@code
 *     headers_with_underscores_action: DROP_HEADER}
 * @param requestsRejectedWithUnderscoresInHeaders requests refused under {@code
 *     headers_with_underscores_action: REJECT_REQUEST}
 */
public record CodecStats(
    Counter droppedHeadersWithUnderscores, Counter requestsRejectedWithUnderscoresInHeaders) {

  /** {@code codec}'s counters: {@code http1} or {@code http2}. */
  static CodecStats create(Stats s, String codec) {
    return new CodecStats(
        s.counter(
            codec + ".dropped_headers_with_underscores",
            "envoy_" + codec + "_dropped_headers_with_underscores",
            Map.of()),
        s.counter(
            codec + ".requests_rejected_with_underscores_in_headers",
            "envoy_" + codec + "_requests_rejected_with_underscores_in_headers",
            Map.of()));
  }
}
