package dev.bowline.proxy.http.filter.metadataexchange;

import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.TrafficDirection;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One stream's exchange: takes the peer's headers off (into filter state) on the way in, puts ours
 * on on the way out, never towards the local app: outbound listeners add ours to requests, inbound
 * ones to responses.
 */
final class MetadataExchangeFilter implements HttpFilter {
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
    String value = h.get(MetadataExchangePlugin.HEADER);
    if (value == null) {
      h.remove(MetadataExchangePlugin.HEADER_ID);
      return null;
    }
    String id = h.get(MetadataExchangePlugin.HEADER_ID);
    h.remove(MetadataExchangePlugin.HEADER);
    h.remove(MetadataExchangePlugin.HEADER_ID);
    return config.peers().resolve(value, id);
  }

  private void give(HttpHeaders h) {
    h.set(MetadataExchangePlugin.HEADER, config.metadataValue());
    if (!config.metadataId().isEmpty()) {
      h.set(MetadataExchangePlugin.HEADER_ID, config.metadataId());
    }
  }
}
