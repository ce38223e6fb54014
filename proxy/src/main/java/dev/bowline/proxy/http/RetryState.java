package dev.bowline.proxy.http;

import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.RetryPolicy;
import dev.bowline.proxy.config.RetryPolicy.RetryOn;
import dev.bowline.proxy.config.SocketAddr;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * One stream's retry bookkeeping under its route's {@link RetryPolicy}: which outcomes are retried
 * (Envoy's {@code retry_on} semantics), how many tries are left, the fully jittered exponential
 * backoff, and the hosts tried so far for {@code previous_hosts}.
 */
final class RetryState {
  /** How a try ended, when it ended without a response to judge. */
  enum Outcome {
    CONNECT_FAILURE,
    REFUSED_STREAM,
    RESET,
    TIMEOUT,
    RESPONSE
  }

  private final RetryPolicy policy;
  private int retriesLeft;
  private int backoffStep = 1;
  private @Nullable SocketAddr firstTried;
  private @Nullable List<SocketAddr> tried;

  RetryState(RetryPolicy policy) {
    this.policy = policy;
    this.retriesLeft = policy.numRetries();
  }

  boolean hasRetriesLeft() {
    return retriesLeft > 0;
  }

  void consume() {
    retriesLeft--;
  }

  /** Whether the policy retries a try that ended with {@code outcome} (no response). */
  boolean retries(Outcome outcome) {
    Set<RetryOn> on = policy.retryOn();
    return switch (outcome) {
      // Envoy: 5xx and gateway-error cover every reset and connect failure; reset covers all
      // resets; connect-failure and refused-stream only their own.
      case CONNECT_FAILURE ->
          on.contains(RetryOn.CONNECT_FAILURE)
              || on.contains(RetryOn.RESET)
              || on.contains(RetryOn.RESET_BEFORE_REQUEST)
              || on.contains(RetryOn.FIVE_XX)
              || on.contains(RetryOn.GATEWAY_ERROR);
      case REFUSED_STREAM ->
          on.contains(RetryOn.REFUSED_STREAM)
              || on.contains(RetryOn.RESET)
              || on.contains(RetryOn.FIVE_XX)
              || on.contains(RetryOn.GATEWAY_ERROR);
      case RESET ->
          on.contains(RetryOn.RESET)
              || on.contains(RetryOn.FIVE_XX)
              || on.contains(RetryOn.GATEWAY_ERROR);
      // a per-try timeout is taken as a 504
      case TIMEOUT ->
          on.contains(RetryOn.FIVE_XX)
              || on.contains(RetryOn.GATEWAY_ERROR)
              || on.contains(RetryOn.RESET)
              || (on.contains(RetryOn.RETRIABLE_STATUS_CODES)
                  && policy.retriableStatusCodes().contains(504));
      case RESPONSE -> true; // judged by retries(HttpResponse)
    };
  }

  /** Whether the policy retries a try answered with {@code resp}. */
  boolean retries(HttpResponse resp) {
    Set<RetryOn> on = policy.retryOn();
    if (on.isEmpty()) {
      return false;
    }
    int status = resp.status().code();
    HttpHeaders h = resp.headers();
    if (on.contains(RetryOn.FIVE_XX) && status >= 500) {
      return true;
    }
    if (on.contains(RetryOn.GATEWAY_ERROR) && status >= 502 && status <= 504) {
      return true;
    }
    if (on.contains(RetryOn.RETRIABLE_4XX) && status == 409) {
      return true;
    }
    if (on.contains(RetryOn.RETRIABLE_STATUS_CODES)
        && policy.retriableStatusCodes().contains(status)) {
      return true;
    }
    if (on.contains(RetryOn.ENVOY_RATELIMITED) && h.contains("x-envoy-ratelimited")) {
      return true;
    }
    if (on.contains(RetryOn.RETRIABLE_HEADERS)) {
      for (HeaderMatch m : policy.retriableHeaders()) {
        List<String> all = h.getAll(m.name());
        if (m.matches(all.isEmpty() ? null : String.join(",", all))) {
          return true;
        }
      }
    }
    String grpcStatus = h.get("grpc-status");
    if (grpcStatus != null) {
      RetryOn code =
          switch (grpcStatus.trim()) {
            case "1" -> RetryOn.GRPC_CANCELLED;
            case "4" -> RetryOn.GRPC_DEADLINE_EXCEEDED;
            case "8" -> RetryOn.GRPC_RESOURCE_EXHAUSTED;
            case "13" -> RetryOn.GRPC_INTERNAL;
            case "14" -> RetryOn.GRPC_UNAVAILABLE;
            default -> null;
          };
      return code != null && on.contains(code);
    }
    return false;
  }

  /**
   * Envoy's fully jittered exponential backoff: a random wait below {@code base * (2^n - 1)} for
   * the n-th retry, at most the policy's max interval.
   */
  long nextBackoffMillis(RandomGenerator random) {
    long base = Math.max(1, policy.baseInterval().toMillis());
    long max = Math.max(base, policy.maxInterval().toMillis());
    long ceiling = ((1L << Math.min(backoffStep, 30)) - 1) * base;
    if (ceiling <= max) {
      backoffStep++;
    }
    return Math.min(random.nextLong(ceiling), max);
  }

  /** Records that a try went to {@code host}. */
  void tried(SocketAddr host) {
    if (policy.previousHosts()) {
      if (firstTried == null) {
        firstTried = host; // the common case: one try, no list
        return;
      }
      List<SocketAddr> t = tried;
      if (t == null) {
        tried = t = new ArrayList<>(3);
      }
      t.add(host);
    }
  }

  /** {@code previous_hosts}: whether a host was tried before by this stream. */
  boolean rejects(SocketAddr host) {
    if (host.equals(firstTried)) {
      return true;
    }
    List<SocketAddr> t = tried;
    return t != null && t.contains(host);
  }

  /** How many more picks a rejected host gets ({@code host_selection_retry_max_attempts}). */
  int hostSelectionAttempts() {
    return policy.previousHosts() ? policy.hostSelectionMaxAttempts() : 0;
  }
}
