package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.Optional;

/** What a matched route does. */
public sealed interface RouteAction {
  /**
   * Forward upstream.
   *
   * @param clusters the cluster, or several by weight
   * @param prefixRewrite replaces the matched prefix
   * @param hostRewrite replaces the authority
   * @param timeout the whole-request timeout; zero disables (Envoy's default is 15 s)
   * @param connectRetries from {@code retry_policy}: how many times a request whose upstream
   *     connection failed (nothing sent yet) is tried again on a host picked anew
   * @param hashPolicies {@code hash_policy}: what RING_HASH and MAGLEV clusters hash
   */
  record Forward(
      ClusterChoice clusters,
      Optional<String> prefixRewrite,
      Optional<String> hostRewrite,
      Duration timeout,
      int connectRetries,
      java.util.List<HashPolicy> hashPolicies)
      implements RouteAction {
    public Forward {
      hashPolicies = java.util.List.copyOf(hashPolicies);
    }

    /** A forward without hash policies. */
    public Forward(
        ClusterChoice clusters,
        Optional<String> prefixRewrite,
        Optional<String> hostRewrite,
        Duration timeout,
        int connectRetries) {
      this(clusters, prefixRewrite, hostRewrite, timeout, connectRetries, java.util.List.of());
    }
  }

  /** Answer locally with {@code status} and {@code body}. */
  record DirectResponse(int status, String body) implements RouteAction {}

  /** Answer with a redirect to the same request under a new scheme/host/path. */
  record Redirect(int status, Optional<String> scheme, Optional<String> host, Optional<String> path)
      implements RouteAction {}
}
