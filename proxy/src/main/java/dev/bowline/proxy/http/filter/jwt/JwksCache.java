package dev.bowline.proxy.http.filter.jwt;

import com.nimbusds.jose.jwk.JWKSet;
import dev.bowline.proxy.http.filter.StreamContext;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The keys of one {@code remote_jwks}, shared by every stream on every event loop: the last good
 * set with the time it came, and at most one fetch in flight. A fetch goes through the proxy's own
 * cluster ({@link StreamContext#httpCall}); a failed one keeps the last good keys and is retried no
 * sooner than {@link #FAILED_REFETCH} later. Reads are one volatile load; no locks.
 */
final class JwksCache {
  private static final Logger LOG = System.getLogger(JwksCache.class.getName());

  /** How soon a failed fetch may be tried again (Envoy's {@code failed_refetch_duration}). */
  static final Duration FAILED_REFETCH = Duration.ofSeconds(1);

  /** The largest JWKS document accepted. */
  static final int MAX_JWKS_BYTES = 256 * 1024;

  private record State(@Nullable JwksKeys keys, long fetchedNanos, long failedNanos) {}

  private final String uri;
  private final String cluster;
  private final Duration timeout;
  private final Duration cacheDuration;
  private final LongSupplier nanos;
  private final AtomicReference<State> state;
  private final AtomicReference<@Nullable CompletableFuture<Void>> inflight =
      new AtomicReference<>();

  // the counters of the filter whose fetch is in flight; written only by the owner of inflight
  private volatile @Nullable JwtAuthnStats fetchStats;

  JwksCache(
      String uri, String cluster, Duration timeout, Duration cacheDuration, LongSupplier nanos) {
    this.uri = uri;
    this.cluster = cluster;
    this.timeout = timeout;
    this.cacheDuration = cacheDuration;
    this.nanos = nanos;
    this.state = new AtomicReference<>(new State(null, 0, 0));
  }

  /** The keys to verify with now; null when no fetch has succeeded yet. */
  @Nullable JwksKeys keys() {
    return state.get().keys();
  }

  /** Whether a request without keys should wait for a fetch (none failed just now). */
  boolean worthWaiting() {
    State s = state.get();
    return s.keys() == null
        && (s.failedNanos() == 0
            || nanos.getAsLong() - s.failedNanos() >= FAILED_REFETCH.toNanos());
  }

  /** Whether the keys are older than {@code cache_duration} (a refresh is due). */
  boolean stale() {
    State s = state.get();
    long now = nanos.getAsLong();
    return s.keys() != null
        && now - s.fetchedNanos() >= cacheDuration.toNanos()
        && (s.failedNanos() == 0
            || s.failedNanos() < s.fetchedNanos()
            || now - s.failedNanos() >= FAILED_REFETCH.toNanos());
  }

  /**
   * Starts a fetch on {@code stream}'s loop unless one is in flight; the future completes (never
   * exceptionally) when that fetch ends, on the loop that ran it.
   */
  CompletableFuture<Void> fetch(StreamContext stream, JwtAuthnStats stats) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = inflight.compareAndExchange(null, mine);
    if (running != null) {
      return running;
    }
    fetchStats = stats; // Envoy counts a fetch in the stats of the filter that started it
    URI u;
    try {
      u = URI.create(uri);
    } catch (IllegalArgumentException e) {
      done(mine, null, "bad uri");
      return mine;
    }
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    if (u.getRawQuery() != null) {
      path = path + "?" + u.getRawQuery();
    }
    var req =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
    req.headers()
        .set(HttpHeaderNames.HOST, u.getRawAuthority())
        .set(HttpHeaderNames.ACCEPT, "application/json")
        .set(HttpHeaderNames.CONTENT_LENGTH, 0);
    stream.httpCall(
        cluster,
        req,
        timeout,
        MAX_JWKS_BYTES,
        new StreamContext.HttpCallback() {
          @Override
          public void onResponse(int status, byte[] body) {
            if (status != 200) {
              done(mine, null, "status " + status);
              return;
            }
            String json = new String(body, StandardCharsets.UTF_8);
            if (!JwtVerifier.shallow(json)) {
              done(mine, null, "JWKS nested too deep");
              return;
            }
            try {
              JWKSet keys = JWKSet.parse(json).toPublicJWKSet();
              if (keys.getKeys().isEmpty()) {
                done(mine, null, "JWKS has no keys");
              } else {
                done(mine, keys, "");
              }
            } catch (java.text.ParseException | RuntimeException e) {
              done(mine, null, "not a JWKS: " + e.getMessage());
            }
          }

          @Override
          public void onFailure(String reason) {
            done(mine, null, reason);
          }
        });
    return mine;
  }

  private void done(CompletableFuture<Void> f, @Nullable JWKSet set, String problem) {
    JwksKeys keys = set == null ? null : JwksKeys.of(set);
    long now = nanos.getAsLong();
    State old = state.get();
    JwtAuthnStats stats = fetchStats;
    if (stats != null) {
      (keys == null ? stats.jwksFetchFailed() : stats.jwksFetchSuccess()).inc();
    }
    if (keys != null) {
      state.set(new State(keys, now, old.failedNanos()));
      LOG.log(
          Level.DEBUG,
          "event=jwks_fetched uri={0} cluster={1} keys={2}",
          uri,
          cluster,
          keys.keys().size());
    } else {
      state.set(new State(old.keys(), old.fetchedNanos(), now));
      LOG.log(
          Level.WARNING,
          "event=jwks_fetch_failed uri={0} cluster={1} reason=\"{2}\" kept_keys={3}",
          uri,
          cluster,
          problem,
          old.keys() != null);
    }
    inflight.set(null);
    f.complete(null);
  }
}
