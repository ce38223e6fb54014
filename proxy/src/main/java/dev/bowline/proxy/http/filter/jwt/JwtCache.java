package dev.bowline.proxy.http.filter.jwt;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code jwt_cache_config}: one provider's tokens whose signature verified, so a token seen
 * again skips the signature check (issuer, time and audiences are still checked on every use). As
 * Envoy's, the cache is per worker: each event loop has its own least-recently-used map of at most
 * {@code size} tokens, so a lookup takes no lock.
 */
final class JwtCache {
  /** Envoy's default {@code jwt_cache_size}. */
  static final int DEFAULT_SIZE = 100;

  private final int size;
  private final int maxTokenBytes;
  private final ConcurrentHashMap<Thread, Map<String, JwtVerifier.Parsed>> perLoop =
      new ConcurrentHashMap<>();

  /**
   * @param size tokens kept per event loop
   * @param maxTokenBytes longer tokens are not cached ({@code jwt_max_token_size}; 0: no limit)
   */
  JwtCache(int size, int maxTokenBytes) {
    this.size = size;
    this.maxTokenBytes = maxTokenBytes;
  }

  int size() {
    return size;
  }

  /** The verified token {@code token}, if this event loop has it. */
  JwtVerifier.@Nullable Parsed lookup(String token) {
    Map<String, JwtVerifier.Parsed> m = perLoop.get(Thread.currentThread());
    return m == null ? null : m.get(token);
  }

  /** Keeps {@code parsed} (its signature verified) for this event loop. */
  void put(String token, JwtVerifier.Parsed parsed) {
    if (maxTokenBytes > 0 && token.length() > maxTokenBytes) {
      return;
    }
    perLoop.computeIfAbsent(Thread.currentThread(), t -> new Lru(size)).put(token, parsed);
  }

  /** Tokens this event loop keeps (for tests). */
  int kept() {
    Map<String, JwtVerifier.Parsed> m = perLoop.get(Thread.currentThread());
    return m == null ? 0 : m.size();
  }

  private static final class Lru extends LinkedHashMap<String, JwtVerifier.Parsed> {
    private final int max;

    Lru(int max) {
      super(16, 0.75f, true);
      this.max = max;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, JwtVerifier.Parsed> eldest) {
      return size() > max;
    }
  }
}
