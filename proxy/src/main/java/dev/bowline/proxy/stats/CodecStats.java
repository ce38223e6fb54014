package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of an HTTP codec that Bowline keeps (Envoy's {@code Http1::CodecStats} and {@code
 * Http2::CodecStats}, under {@code http1.} and {@code http2.}), resolved once per proxy: every
 * connection manager shares them, as every Envoy connection manager on a listener's scope does.
 * Each event costs one increment, no look-up by name.
 *
 * <p>The last five are the HTTP/2 codec's alone; the {@code http1} instance holds counters of those
 * names that no stats output lists (Envoy's HTTP/1 codec has no such stats, and nothing counts them
 * there).
 *
 * @param droppedHeadersWithUnderscores request header and trailer fields dropped under {@code
 *     headers_with_underscores_action: DROP_HEADER}
 * @param requestsRejectedWithUnderscoresInHeaders requests refused under {@code
 *     headers_with_underscores_action: REJECT_REQUEST}
 * @param rxReset every RST_STREAM received
 * @param txReset every RST_STREAM sent (the proxy's and the codec's)
 * @param headerOverflow header blocks over {@code max_request_headers_kb} or {@code
 *     max_headers_count}
 * @param rxMessagingError frames breaking HTTP/2's messaging rules
 * @param keepaliveTimeout connections closed for an unanswered keepalive PING
 */
public record CodecStats(
    Counter droppedHeadersWithUnderscores,
    Counter requestsRejectedWithUnderscoresInHeaders,
    Counter rxReset,
    Counter txReset,
    Counter headerOverflow,
    Counter rxMessagingError,
    Counter keepaliveTimeout) {

  /** {@code codec}'s counters: {@code http1} or {@code http2}. */
  static CodecStats create(Stats s, String codec) {
    boolean h2 = codec.equals("http2");
    return new CodecStats(
        counter(s, codec, "dropped_headers_with_underscores", true),
        counter(s, codec, "requests_rejected_with_underscores_in_headers", true),
        counter(s, codec, "rx_reset", h2),
        counter(s, codec, "tx_reset", h2),
        counter(s, codec, "header_overflow", h2),
        counter(s, codec, "rx_messaging_error", h2),
        counter(s, codec, "keepalive_timeout", h2));
  }

  /** {@code codec.name}, in the proxy's stats when {@code listed}. */
  private static Counter counter(Stats s, String codec, String name, boolean listed) {
    String dotted = codec + "." + name;
    String prom = "envoy_" + codec + "_" + name;
    return listed
        ? s.counter(dotted, prom, Map.of())
        : new Counter(dotted, prom, Map.of(), new LongAdder());
  }
}
