package dev.bowline.proxy.http;

import dev.bowline.proxy.config.CodecOptions;
import dev.bowline.proxy.stats.CodecStats;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's codecs under {@code common_http_protocol_options.headers_with_underscores_action} (their
 * {@code checkHeaderNameForUnderscores}, per header field of a request's headers and trailers), for
 * both of Bowline's codecs: DROP_HEADER drops each field whose name holds {@code _}, counted in
 * {@code <codec>.dropped_headers_with_underscores}; REJECT_REQUEST counts {@code
 * <codec>.requests_rejected_with_underscores_in_headers} at the first such field and leaves the
 * answer to the codec (HTTP/1: 400 {@code http1.unexpected_underscore} and the close; HTTP/2: the
 * stream's reset). Each codec calls it only once its own allocation-free look has found a name with
 * {@code _} (HTTP/1: {@code Http1Decoding.anyNameContains}, reading the decoder's header arrays in
 * place; HTTP/2: a loop over the header block where it is checked), so the common request passes no
 * iterator here: one passed to a method the JIT does not inline is allocated (measured: an iterator
 * and an entry per header per request).
 */
final class UnderscoreHeaders {
  private UnderscoreHeaders() {}

  /**
   * Applies {@code action} (not ALLOW) to {@code headers}, whose fields {@code entries} iterates
   * and from which {@code remove} removes a name, counting in its codec's {@code stats}. True: the
   * request is rejected (counted), and the caller answers it as its codec does.
   */
  static <H> boolean rejected(
      H headers,
      Iterator<? extends Map.Entry<? extends CharSequence, ?>> entries,
      BiConsumer<H, CharSequence> remove,
      int action,
      CodecStats stats) {
    @Nullable List<CharSequence> dropped = null;
    while (entries.hasNext()) {
      CharSequence name = entries.next().getKey();
      if (!AsciiString.contains(name, "_")) {
        continue;
      }
      if (action == CodecOptions.UNDERSCORES_REJECT) {
        stats.requestsRejectedWithUnderscoresInHeaders().inc();
        return true;
      }
      stats.droppedHeadersWithUnderscores().inc();
      if (dropped == null) {
        dropped = new ArrayList<>(2);
      }
      dropped.add(name);
    }
    if (dropped != null) {
      for (CharSequence name : dropped) {
        remove.accept(headers, name);
      }
    }
    return false;
  }
}
