package dev.bowline.proxy.http.filter.metadataexchange;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Decoded peers by their {@code x-envoy-peer-metadata-id} (or, without one, by the header value
 * itself), shared by every stream of the proxy so a known peer costs one map lookup and no
 * allocation. Bounded like istio-proxy's {@code max_peer_cache_size}: when full, peers are still
 * decoded, only not kept.
 */
public final class PeerCache {
  private final ConcurrentHashMap<String, PeerInfo> byKey = new ConcurrentHashMap<>();
  private final int maxSize;

  public PeerCache(int maxSize) {
    this.maxSize = maxSize;
  }

  /**
   * The peer of header {@code value} (base64 Struct) with id {@code id}; null when the value is not
   * valid base64 of a Struct.
   */
  public @Nullable PeerInfo resolve(String value, @Nullable String id) {
    String key = id == null || id.isEmpty() ? value : id;
    PeerInfo known = byKey.get(key);
    if (known != null) {
      return known;
    }
    PeerInfo p = decode(value, id == null ? "" : id);
    if (p != null && byKey.size() < maxSize) {
      byKey.putIfAbsent(key, p);
    }
    return p;
  }

  /** Peers currently cached. */
  public int size() {
    return byKey.size();
  }

  static @Nullable PeerInfo decode(String value, String id) {
    try {
      byte[] bytes = Base64.getDecoder().decode(value.trim());
      return PeerInfo.of(id, Struct.parseFrom(bytes));
    } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
      return null;
    }
  }
}
