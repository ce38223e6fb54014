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
   *     connection failed (nothing sent yet) is tried again on a host picked anew; superseded by
   *     {@code policy.retry()} when that is present
   * @param hashPolicies {@code hash_policy}: what RING_HASH and MAGLEV clusters hash
   * @param policy retries, idle timeout, mirrors, regex rewrite
   * @param maxGrpcTimeoutMillis {@code max_grpc_timeout}: for a gRPC request, the {@code
   *     grpc-timeout} header replaces {@code timeout}, capped at this many ms (0: no cap); -1 when
   *     unset (the header is not used)
   * @param grpcTimeoutOffsetMillis {@code grpc_timeout_offset}, taken off the header's timeout
   */
  record Forward(
      ClusterChoice clusters,
      Optional<String> prefixRewrite,
      Optional<String> hostRewrite,
      Duration timeout,
      int connectRetries,
      java.util.List<HashPolicy> hashPolicies,
      ForwardPolicy policy,
      long maxGrpcTimeoutMillis,
      long grpcTimeoutOffsetMillis)
      implements RouteAction {
    public Forward {
      hashPolicies = java.util.List.copyOf(hashPolicies);
    }

    /** A forward that does not read {@code grpc-timeout}. */
    public Forward(
        ClusterChoice clusters,
        Optional<String> prefixRewrite,
        Optional<String> hostRewrite,
        Duration timeout,
        int connectRetries,
        java.util.List<HashPolicy> hashPolicies,
        ForwardPolicy policy) {
      this(
          clusters,
          prefixRewrite,
          hostRewrite,
          timeout,
          connectRetries,
          hashPolicies,
          policy,
          -1,
          0);
    }

    /** A forward without retry/mirror policy. */
    public Forward(
        ClusterChoice clusters,
        Optional<String> prefixRewrite,
        Optional<String> hostRewrite,
        Duration timeout,
        int connectRetries,
        java.util.List<HashPolicy> hashPolicies) {
      this(
          clusters,
          prefixRewrite,
          hostRewrite,
          timeout,
          connectRetries,
          hashPolicies,
          ForwardPolicy.NONE);
    }

    /** A forward without hash policies. */
    public Forward(
        ClusterChoice clusters,
        Optional<String> prefixRewrite,
        Optional<String> hostRewrite,
        Duration timeout,
        int connectRetries,
        ForwardPolicy policy) {
      this(
          clusters,
          prefixRewrite,
          hostRewrite,
          timeout,
          connectRetries,
          java.util.List.of(),
          policy);
    }

    /** A plain forward. */
    public Forward(
        ClusterChoice clusters,
        Optional<String> prefixRewrite,
        Optional<String> hostRewrite,
        Duration timeout,
        int connectRetries) {
      this(
          clusters,
          prefixRewrite,
          hostRewrite,
          timeout,
          connectRetries,
          java.util.List.of(),
          ForwardPolicy.NONE);
    }
  }

  /** Answer locally with {@code status} and {@code body}. */
  record DirectResponse(int status, String body) implements RouteAction {}

  /** Answer with a redirect to the same request under a new scheme/host/path. */
  record Redirect(
      int status,
      Optional<String> scheme,
      Optional<String> host,
      Optional<String> path,
      RedirectExtras extras)
      implements RouteAction {
    public Redirect(
        int status, Optional<String> scheme, Optional<String> host, Optional<String> path) {
      this(status, scheme, host, path, RedirectExtras.NONE);
    }
  }

  /**
   * The rest of Envoy's {@code RedirectAction}.
   *
   * @param port {@code port_redirect}, 0 when unset
   * @param prefixRewrite {@code prefix_rewrite} of the matched prefix
   * @param regexRewrite {@code regex_rewrite} of the path
   * @param stripQuery {@code strip_query}
   */
  record RedirectExtras(
      int port,
      Optional<String> prefixRewrite,
      Optional<ForwardPolicy.RegexRewrite> regexRewrite,
      boolean stripQuery) {
    public static final RedirectExtras NONE =
        new RedirectExtras(0, Optional.empty(), Optional.empty(), false);
  }
}
