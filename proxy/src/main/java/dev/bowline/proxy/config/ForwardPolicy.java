package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a forwarding route does besides picking a cluster: retries, the per-stream idle timeout,
 * request mirroring and a regex path rewrite.
 *
 * @param retry the route's (else the virtual host's) retry policy
 * @param idleTimeout the route's {@code idle_timeout}; null: the connection manager's applies
 * @param mirrors {@code request_mirror_policies}
 * @param regexRewrite {@code regex_rewrite} of the path
 * @param maxStreamDuration the route's {@code max_stream_duration.max_stream_duration}, which
 *     replaces the connection manager's for its streams (zero: none); empty: the connection
 *     manager's applies
 */
public record ForwardPolicy(
    Optional<RetryPolicy> retry,
    Optional<Duration> idleTimeout,
    List<RequestMirror> mirrors,
    Optional<RegexRewrite> regexRewrite,
    Optional<Duration> maxStreamDuration) {
  public ForwardPolicy {
    mirrors = List.copyOf(mirrors);
  }

  /** Without a route max_stream_duration. */
  public ForwardPolicy(
      Optional<RetryPolicy> retry,
      Optional<Duration> idleTimeout,
      List<RequestMirror> mirrors,
      Optional<RegexRewrite> regexRewrite) {
    this(retry, idleTimeout, mirrors, regexRewrite, Optional.empty());
  }

  /** Nothing beyond forwarding. */
  public static final ForwardPolicy NONE =
      new ForwardPolicy(Optional.empty(), Optional.empty(), List.of(), Optional.empty());

  /**
   * Envoy's {@code RegexMatchAndSubstitute}: every match of {@code pattern} in the path is replaced
   * by {@code replacement} (in {@link java.util.regex.Matcher#replaceAll} syntax).
   */
  public record RegexRewrite(Pattern pattern, String replacement) {
    public String apply(String path) {
      return pattern.matcher(path).replaceAll(replacement);
    }
  }
}
