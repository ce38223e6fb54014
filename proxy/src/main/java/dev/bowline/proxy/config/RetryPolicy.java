package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Envoy's route {@code retry_policy}, resolved: what is retried, how often, how long each try may
 * take, how long to wait between tries and which hosts to avoid.
 *
 * @param numRetries retries after the first try (Envoy's default is 1)
 * @param retryOn the conditions of {@code retry_on}
 * @param retriableStatusCodes statuses retried under {@code retriable-status-codes}
 * @param retriableHeaders response headers retried under {@code retriable-headers}
 * @param perTryTimeout zero: each try may take the rest of the route timeout
 * @param baseInterval the backoff's base ({@code retry_back_off.base_interval}, default 25 ms)
 * @param maxInterval the longest backoff (default 10 times the base)
 * @param previousHosts {@code envoy.retry_host_predicates.previous_hosts}: avoid hosts tried before
 * @param hostSelectionMaxAttempts how many more picks a rejected host gets (default 1)
 */
public record RetryPolicy(
    int numRetries,
    Set<RetryOn> retryOn,
    Set<Integer> retriableStatusCodes,
    List<HeaderMatch> retriableHeaders,
    Duration perTryTimeout,
    Duration baseInterval,
    Duration maxInterval,
    boolean previousHosts,
    int hostSelectionMaxAttempts) {
  public RetryPolicy {
    retryOn =
        retryOn.isEmpty()
            ? Collections.unmodifiableSet(EnumSet.noneOf(RetryOn.class))
            : Collections.unmodifiableSet(EnumSet.copyOf(retryOn));
    retriableStatusCodes = Set.copyOf(retriableStatusCodes);
    retriableHeaders = List.copyOf(retriableHeaders);
    if (numRetries < 0 || hostSelectionMaxAttempts < 0) {
      throw new IllegalArgumentException("numRetries and hostSelectionMaxAttempts must be >= 0");
    }
  }

  /** Envoy's default backoff base. */
  public static final Duration DEFAULT_BASE_INTERVAL = Duration.ofMillis(25);

  /** The conditions of Envoy's {@code retry_on} (and {@code x-envoy-retry-grpc-on}). */
  public enum RetryOn {
    FIVE_XX("5xx"),
    GATEWAY_ERROR("gateway-error"),
    RESET("reset"),
    RESET_BEFORE_REQUEST("reset-before-request"),
    CONNECT_FAILURE("connect-failure"),
    REFUSED_STREAM("refused-stream"),
    RETRIABLE_4XX("retriable-4xx"),
    RETRIABLE_STATUS_CODES("retriable-status-codes"),
    RETRIABLE_HEADERS("retriable-headers"),
    ENVOY_RATELIMITED("envoy-ratelimited"),
    HTTP3_POST_CONNECT_FAILURE("http3-post-connect-failure"),
    GRPC_CANCELLED("cancelled"),
    GRPC_DEADLINE_EXCEEDED("deadline-exceeded"),
    GRPC_INTERNAL("internal"),
    GRPC_RESOURCE_EXHAUSTED("resource-exhausted"),
    GRPC_UNAVAILABLE("unavailable");

    private final String token;

    RetryOn(String token) {
      this.token = token;
    }

    /** The token as written in {@code retry_on}. */
    public String token() {
      return token;
    }

    /** The condition named {@code token}, or null when Envoy knows no such condition. */
    public static @org.jspecify.annotations.Nullable RetryOn of(String token) {
      for (RetryOn r : values()) {
        if (r.token.equals(token)) {
          return r;
        }
      }
      return null;
    }
  }
}
