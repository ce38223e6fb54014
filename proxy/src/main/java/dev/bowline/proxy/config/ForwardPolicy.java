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
 * @param host the Host rewrites besides {@code host_rewrite_literal}: {@code host_rewrite_header},
 *     {@code host_rewrite_path_regex}, {@code auto_host_rewrite}, {@code append_x_forwarded_host}
 * @param clusterNotFoundStatus {@code cluster_not_found_response_code}: the status of the local
 *     reply when the route's cluster is not known (503 unless configured)
 * @param internalRedirect {@code internal_redirect_policy}: the upstream's redirects the router
 *     follows itself; empty: they go to the client
 */
public record ForwardPolicy(
    Optional<RetryPolicy> retry,
    Optional<Duration> idleTimeout,
    List<RequestMirror> mirrors,
    Optional<RegexRewrite> regexRewrite,
    Optional<Duration> maxStreamDuration,
    HostRewrite host,
    int clusterNotFoundStatus,
    Optional<InternalRedirect> internalRedirect) {
  public ForwardPolicy {
    mirrors = List.copyOf(mirrors);
  }

  /** No internal redirects. */
  public ForwardPolicy(
      Optional<RetryPolicy> retry,
      Optional<Duration> idleTimeout,
      List<RequestMirror> mirrors,
      Optional<RegexRewrite> regexRewrite,
      Optional<Duration> maxStreamDuration,
      HostRewrite host,
      int clusterNotFoundStatus) {
    this(
        retry,
        idleTimeout,
        mirrors,
        regexRewrite,
        maxStreamDuration,
        host,
        clusterNotFoundStatus,
        Optional.empty());
  }

  /** No Host rewrite but the literal, 503 for an unknown cluster. */
  public ForwardPolicy(
      Optional<RetryPolicy> retry,
      Optional<Duration> idleTimeout,
      List<RequestMirror> mirrors,
      Optional<RegexRewrite> regexRewrite,
      Optional<Duration> maxStreamDuration) {
    this(retry, idleTimeout, mirrors, regexRewrite, maxStreamDuration, HostRewrite.NONE, 503);
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
   * The route's Host rewrites that are not a literal (Envoy applies the first set of literal,
   * header, path regex; the literal is {@link RouteAction.Forward#hostRewrite}).
   *
   * @param header {@code host_rewrite_header}: the Host becomes this request header's first value,
   *     when present and not empty
   * @param pathRegex {@code host_rewrite_path_regex}: the Host becomes the request's path (query
   *     left out) with the substitution made
   * @param appendForwardedHost {@code append_x_forwarded_host}: a rewrite appends the original Host
   *     to {@code x-forwarded-host} (unless it is already its last value)
   * @param autoHost {@code auto_host_rewrite}: the Host becomes the chosen upstream host's hostname
   *     (each try's), when it has one
   */
  public record HostRewrite(
      Optional<String> header,
      Optional<RegexRewrite> pathRegex,
      boolean appendForwardedHost,
      boolean autoHost) {
    /** None. */
    public static final HostRewrite NONE =
        new HostRewrite(Optional.empty(), Optional.empty(), false, false);

    /** Without {@code auto_host_rewrite}. */
    public HostRewrite(
        Optional<String> header, Optional<RegexRewrite> pathRegex, boolean appendForwardedHost) {
      this(header, pathRegex, appendForwardedHost, false);
    }

    /** Whether a Host rewrite of these, or the literal, can happen at all. */
    public boolean any() {
      return header.isPresent() || pathRegex.isPresent();
    }
  }

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
