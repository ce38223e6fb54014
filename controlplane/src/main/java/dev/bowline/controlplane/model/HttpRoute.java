package dev.bowline.controlplane.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One resolved VirtualService HTTP route, in the form generators turn into an Envoy route: how to
 * match, where to send with which weights, and the route policy (timeout, retries, fault, mirror,
 * rewrite, redirect) that the generators emit in their Envoy form.
 *
 * @param name the route's name (may be empty)
 * @param path how the request path must match
 * @param headers header matches, all required
 * @param queryParams query parameter matches (name, kind, value), all required
 * @param ignoreUriCase whether the path matches case-insensitively
 * @param destinations weighted destinations; weights are relative and positive; empty only for a
 *     redirect
 * @param policy what else the route does
 */
public record HttpRoute(
    String name,
    PathMatch path,
    List<HeaderMatch> headers,
    List<HeaderMatch> queryParams,
    boolean ignoreUriCase,
    List<Destination> destinations,
    Policy policy) {
  public HttpRoute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(path, "path");
    headers = List.copyOf(headers);
    queryParams = List.copyOf(queryParams);
    destinations = List.copyOf(destinations);
    Objects.requireNonNull(policy, "policy");
    if (destinations.isEmpty() && !policy.answersDirectly()) {
      throw new IllegalArgumentException(
          "route " + name + ": at least one destination (or a redirect or direct response)");
    }
  }

  /** A route without query parameter matches, case-sensitive. */
  public HttpRoute(
      String name,
      PathMatch path,
      List<HeaderMatch> headers,
      List<Destination> destinations,
      Policy policy) {
    this(name, path, headers, List.of(), false, destinations, policy);
  }

  /** A route without policy. */
  public HttpRoute(
      String name, PathMatch path, List<HeaderMatch> headers, List<Destination> destinations) {
    this(name, path, headers, destinations, Policy.NONE);
  }

  /** How the path must match. */
  public sealed interface PathMatch {
    /** The path starts with {@code prefix}. */
    record Prefix(String prefix) implements PathMatch {}

    /** The path is exactly {@code path}. */
    record Exact(String path) implements PathMatch {}

    /** The path matches the RE2 regex {@code regex}. */
    record Regex(String regex) implements PathMatch {}
  }

  /** How a header value is compared. */
  public enum MatchKind {
    EXACT,
    PREFIX,
    REGEX
  }

  /**
   * The header {@code name} (pseudo-headers {@code :method}, {@code :authority}, {@code :scheme}
   * included) must match {@code value} ({@code kind}); with {@code invert}, must not.
   */
  public record HeaderMatch(String name, MatchKind kind, String value, boolean invert) {
    public HeaderMatch {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(value, "value");
    }

    /** A positive match. */
    public HeaderMatch(String name, MatchKind kind, String value) {
      this(name, kind, value, false);
    }

    /** An exact match. */
    public HeaderMatch(String name, String value) {
      this(name, MatchKind.EXACT, value, false);
    }
  }

  /**
   * A destination: a fully qualified host, its port (0: the route's port), an optional subset
   * ({@code ""} for none), a relative weight, and its own header operations (VirtualService {@code
   * route[].headers}) or null.
   */
  public record Destination(
      String host, int port, String subset, int weight, @Nullable HeaderOps headers) {
    public Destination {
      if (weight <= 0) {
        throw new IllegalArgumentException("destination " + host + ": weight must be > 0");
      }
    }

    /** A destination without header operations of its own. */
    public Destination(String host, int port, String subset, int weight) {
      this(host, port, subset, weight, null);
    }
  }

  /**
   * The route policy; {@code null} components are absent (the generator's default applies).
   *
   * @param timeout the request timeout (0 disables)
   * @param retry the retry policy
   * @param fault fault injection
   * @param mirror where to mirror requests
   * @param rewrite path/authority rewrite
   * @param redirect answer with a redirect instead of forwarding
   * @param directResponse answer directly instead of forwarding
   * @param headerOps request and response header changes
   * @param moreMirrors VirtualService {@code mirrors} after the first (which is {@code mirror})
   * @param cors the CORS policy
   */
  public record Policy(
      @Nullable Duration timeout,
      @Nullable Retry retry,
      @Nullable Fault fault,
      @Nullable Mirror mirror,
      @Nullable Rewrite rewrite,
      @Nullable Redirect redirect,
      @Nullable DirectResponse directResponse,
      @Nullable HeaderOps headerOps,
      List<Mirror> moreMirrors,
      @Nullable Cors cors) {
    /** No policy. */
    public static final Policy NONE = new Policy(null, null, null, null, null, null, null, null);

    public Policy {
      moreMirrors = List.copyOf(moreMirrors);
    }

    /** A policy without CORS and with at most one mirror. */
    public Policy(
        @Nullable Duration timeout,
        @Nullable Retry retry,
        @Nullable Fault fault,
        @Nullable Mirror mirror,
        @Nullable Rewrite rewrite,
        @Nullable Redirect redirect,
        @Nullable DirectResponse directResponse,
        @Nullable HeaderOps headerOps) {
      this(
          timeout,
          retry,
          fault,
          mirror,
          rewrite,
          redirect,
          directResponse,
          headerOps,
          List.of(),
          null);
    }

    /** Whether the route answers itself (redirect or direct response) instead of forwarding. */
    public boolean answersDirectly() {
      return redirect != null || directResponse != null;
    }
  }

  /** VirtualService {@code directResponse}: {@code status} with an optional body. */
  public record DirectResponse(int status, @Nullable String body) {}

  /** VirtualService {@code headers}: set (replace), add (append) and remove, per direction. */
  public record HeaderOps(
      Map<String, String> requestSet,
      Map<String, String> requestAdd,
      List<String> requestRemove,
      Map<String, String> responseSet,
      Map<String, String> responseAdd,
      List<String> responseRemove) {
    public HeaderOps {
      requestSet = Map.copyOf(requestSet);
      requestAdd = Map.copyOf(requestAdd);
      requestRemove = List.copyOf(requestRemove);
      responseSet = Map.copyOf(responseSet);
      responseAdd = Map.copyOf(responseAdd);
      responseRemove = List.copyOf(responseRemove);
    }
  }

  /**
   * VirtualService {@code retries}.
   *
   * @param attempts retries allowed (0 disables retries)
   * @param perTryTimeout the timeout of each try, or null
   * @param retryOn Envoy/gRPC retry conditions, comma separated
   */
  public record Retry(
      int attempts,
      @Nullable Duration perTryTimeout,
      String retryOn,
      boolean retryRemoteLocalities,
      @Nullable Boolean retryIgnorePreviousHosts,
      @Nullable Duration backoff) {
    /** Retries without locality, host predicate or backoff choices. */
    public Retry(int attempts, @Nullable Duration perTryTimeout, String retryOn) {
      this(attempts, perTryTimeout, retryOn, false, null, null);
    }

    /**
     * Istio's {@code HTTPRetry} (a VirtualService's {@code retries} or MeshConfig's {@code
     * defaultHttpRetryPolicy}); attempts default to 2 as in Istio.
     */
    public static Retry of(dev.bowline.api.model.VirtualService.HTTPRetry x) {
      return new Retry(
          x.attempts() == null ? 2 : x.attempts(),
          x.perTryTimeout(),
          x.retryOn() == null ? "" : x.retryOn(),
          Boolean.TRUE.equals(x.retryRemoteLocalities()),
          x.retryIgnorePreviousHosts(),
          x.backoff());
    }
  }

  /**
   * VirtualService {@code corsPolicy}.
   *
   * @param allowOrigins allowed origins (an exact {@code *} allows any)
   * @param allowMethods methods a preflight allows
   * @param allowHeaders headers a preflight allows
   * @param exposeHeaders headers the browser may read
   * @param maxAge how long a preflight answer may be cached, or null
   * @param allowCredentials whether credentials are allowed, or null (unset)
   * @param forwardUnmatchedPreflights whether a preflight from a disallowed origin goes upstream,
   *     or null (unset: Envoy's default, forward)
   */
  public record Cors(
      List<HeaderMatch> allowOrigins,
      List<String> allowMethods,
      List<String> allowHeaders,
      List<String> exposeHeaders,
      @Nullable Duration maxAge,
      @Nullable Boolean allowCredentials,
      @Nullable Boolean forwardUnmatchedPreflights) {
    public Cors {
      allowOrigins = List.copyOf(allowOrigins);
      allowMethods = List.copyOf(allowMethods);
      allowHeaders = List.copyOf(allowHeaders);
      exposeHeaders = List.copyOf(exposeHeaders);
    }
  }

  /**
   * VirtualService {@code fault}: a delay and/or abort applied to a percentage of requests.
   *
   * @param delay the fixed delay, or null
   * @param delayPercent of requests delayed (0..100)
   * @param abortHttpStatus the HTTP status answered, or 0
   * @param abortGrpcStatus the gRPC status code answered, or -1
   * @param abortPercent of requests aborted (0..100)
   */
  public record Fault(
      @Nullable Duration delay,
      double delayPercent,
      int abortHttpStatus,
      int abortGrpcStatus,
      double abortPercent) {}

  /** Mirror to {@code destination} for {@code percent} of requests (0..100). */
  public record Mirror(Destination destination, double percent) {}

  /**
   * Rewrite: {@code uri} replaces the matched path prefix (or the whole path for an exact match),
   * {@code regex}/{@code substitution} rewrites the path by RE2, {@code authority} the host.
   */
  public record Rewrite(
      @Nullable String uri,
      @Nullable String regex,
      @Nullable String substitution,
      @Nullable String authority) {}

  /** Redirect; null parts are kept from the request; {@code code} 301 by default. */
  public record Redirect(
      @Nullable String uri,
      @Nullable String authority,
      int port,
      @Nullable String scheme,
      int code) {}
}
