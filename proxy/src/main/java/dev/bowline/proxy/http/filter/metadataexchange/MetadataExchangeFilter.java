package dev.bowline.proxy.http.filter.metadataexchange;

import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.TrafficDirection;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;

/**
 * One stream's exchange: takes the peer's headers off (into filter state) on the way in, puts ours
 * on on the way out, never towards the local app: outbound listeners add ours to requests, inbound
 * ones to responses.
 */
final class MetadataExchangeFilter implements HttpFilter {
  // Pre-hashed names: Netty hashes a String name on every lookup.
  private static final AsciiString HEADER = AsciiString.cached(MetadataExchangePlugin.HEADER);
  private static final AsciiString HEADER_ID = AsciiString.cached(MetadataExchangePlugin.HEADER_ID);

  private final MetadataExchangeConfig config;
  private final StreamInfo stream;

  MetadataExchangeFilter(MetadataExchangeConfig config, StreamInfo stream) {
    this.config = config;
    this.stream = stream;
  }

  @Override
  public FilterStatus onRequestHeaders(HttpRequest request, LocalReplySink reply) {
    HttpHeaders h = request.headers();
    PeerInfo peer = take(h);
    if (peer != null) {
      stream.put(MetadataExchangePlugin.DOWNSTREAM_PEER, peer);
    }
    if (config.direction() != TrafficDirection.INBOUND) {
      give(h);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    HttpHeaders h = response.headers();
    PeerInfo peer = take(h);
    if (peer != null) {
      stream.put(MetadataExchangePlugin.UPSTREAM_PEER, peer);
    }
    if (config.direction() != TrafficDirection.OUTBOUND) {
      give(h);
    }
  }

  private @org.jspecify.annotations.Nullable PeerInfo take(HttpHeaders h) {
    String value = h.get(HEADER);
    if (value == null) {
      h.remove(HEADER_ID);
      return null;
    }
    String id = h.get(HEADER_ID);
    h.remove(HEADER);
    h.remove(HEADER_ID);
    return config.peers().resolve(value, id);
  }

  /**
   * Puts our headers on {@code h}, which {@link #take} has just cleared of any (so {@code add}, not
   * {@code set}: nothing to look for and remove). The values are {@link AsciiString}s, encoded
   * once: the connection writes their bytes as they are.
   */
  private void give(HttpHeaders h) {
    h.add(HEADER, config.metadataValue());
    if (!config.metadataId().isEmpty()) {
      h.add(HEADER_ID, config.metadataId());
    }
  }
}
