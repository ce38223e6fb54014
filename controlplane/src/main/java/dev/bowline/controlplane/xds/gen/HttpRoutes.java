package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A resolved VirtualService route in its Envoy form, as istiod's route translation emits it:
 * matches, weighted clusters, timeout, retry policy, fault (per-route config of {@code
 * envoy.filters.http.fault}), request mirror, prefix/regex/authority rewrite and redirect.
 */
final class HttpRoutes {
  /** The fault filter's name; its per-route config carries a VirtualService {@code fault}. */
  static final String FAULT_FILTER = "envoy.filters.http.fault";

  /** The CORS filter's name; its per-route config carries a VirtualService {@code corsPolicy}. */
  static final String CORS_FILTER = "envoy.filters.http.cors";

  private HttpRoutes() {}

  /**
   * The Envoy route for {@code r}; {@code defaultPort} stands for destinations without a port.
   * Timeout and retries are set only when the VirtualService sets them.
   */
  static Route route(HttpRoute r, int defaultPort) {
    RouteMatch.Builder m = RouteMatch.newBuilder();
    switch (r.path()) {
      case HttpRoute.PathMatch.Prefix p -> m.setPrefix(p.prefix());
      case HttpRoute.PathMatch.Exact e -> m.setPath(e.path());
      case HttpRoute.PathMatch.Regex x -> m.setSafeRegex(regex(x.regex()));
    }
    for (HttpRoute.HeaderMatch h : r.headers()) {
      m.addHeaders(header(h));
    }
    for (HttpRoute.HeaderMatch q : r.queryParams()) {
      m.addQueryParameters(
          QueryParameterMatcher.newBuilder().setName(q.name()).setStringMatch(stringMatch(q)));
    }
    if (r.ignoreUriCase()) {
      m.setCaseSensitive(BoolValue.of(false));
    }
    Route.Builder route = Route.newBuilder().setName(r.name()).setMatch(m);
    if (!r.destinations().isEmpty()) {
      route.setDecorator(
          io.envoyproxy.envoy.config.route.v3.Decorator.newBuilder()
              .setOperation(operation(r, defaultPort)));
    }
    HttpRoute.Policy p = r.policy();
    if (p.headerOps() != null) {
      headerOps(route, p.headerOps());
    }
    if (p.redirect() != null) {
      return route.setRedirect(redirect(p.redirect())).build();
    }
    if (p.directResponse() != null) {
      DirectResponseAction.Builder d =
          DirectResponseAction.newBuilder().setStatus(p.directResponse().status());
      if (p.directResponse().body() != null) {
        d.setBody(DataSource.newBuilder().setInlineString(p.directResponse().body()));
      }
      return route.setDirectResponse(d).build();
    }
    RouteAction.Builder action = RouteAction.newBuilder();
    if (r.destinations().size() == 1) {
      HttpRoute.Destination only = r.destinations().getFirst();
      action.setCluster(cluster(only, defaultPort));
      if (only.headers() != null) {
        // istiod: a single destination's headers go on the route, after the route's own
        headerOps(route, only.headers());
      }
    } else {
      WeightedCluster.Builder wc = WeightedCluster.newBuilder();
      for (HttpRoute.Destination d : r.destinations()) {
        WeightedCluster.ClusterWeight.Builder cw =
            WeightedCluster.ClusterWeight.newBuilder()
                .setName(cluster(d, defaultPort))
                .setWeight(UInt32Value.of(d.weight()));
        if (d.headers() != null) {
          var ops = d.headers();
          ops.requestSet().forEach((k, v) -> cw.addRequestHeadersToAdd(header(k, v, OVERWRITE)));
          ops.requestAdd().forEach((k, v) -> cw.addRequestHeadersToAdd(header(k, v, APPEND)));
          cw.addAllRequestHeadersToRemove(ops.requestRemove());
          ops.responseSet().forEach((k, v) -> cw.addResponseHeadersToAdd(header(k, v, OVERWRITE)));
          ops.responseAdd().forEach((k, v) -> cw.addResponseHeadersToAdd(header(k, v, APPEND)));
          cw.addAllResponseHeadersToRemove(ops.responseRemove());
        }
        wc.addClusters(cw);
      }
      action.setWeightedClusters(wc);
    }
    if (p.timeout() != null) {
      // istiod's setTimeout for a sidecar or gateway: the timeout, and max_grpc_timeout at the
      // same value, so a gRPC request's grpc-timeout header applies up to it. (A proxyless gRPC
      // client gets max_stream_duration instead: GrpcRouteGenerator.)
      action.setTimeout(duration(p.timeout()));
      setMaxGrpcTimeout(action, duration(p.timeout()));
    }
    if (p.retry() != null && p.retry().attempts() > 0) {
      action.setRetryPolicy(retry(p.retry()));
    }
    List<HttpRoute.Mirror> mirrors = new java.util.ArrayList<>();
    if (p.mirror() != null) {
      mirrors.add(p.mirror());
    }
    mirrors.addAll(p.moreMirrors());
    for (HttpRoute.Mirror mirror : mirrors) {
      action.addRequestMirrorPolicies(
          RouteAction.RequestMirrorPolicy.newBuilder()
              .setCluster(cluster(mirror.destination(), defaultPort))
              .setRuntimeFraction(
                  RuntimeFractionalPercent.newBuilder()
                      .setDefaultValue(percent(mirror.percent()))));
    }
    if (p.rewrite() != null) {
      HttpRoute.Rewrite w = p.rewrite();
      if (w.uri() != null) {
        if (r.path() instanceof HttpRoute.PathMatch.Prefix) {
          action.setPrefixRewrite(w.uri());
        } else {
          // istiod: a rewrite of a non-prefix match replaces the whole path.
          action.setRegexRewrite(
              RegexMatchAndSubstitute.newBuilder()
                  .setPattern(regex("/.*"))
                  .setSubstitution(w.uri()));
        }
      }
      if (w.regex() != null) {
        action.setRegexRewrite(
            RegexMatchAndSubstitute.newBuilder()
                .setPattern(regex(w.regex()))
                .setSubstitution(w.substitution() == null ? "" : w.substitution()));
      }
      if (w.authority() != null) {
        action.setHostRewriteLiteral(w.authority());
      }
    }
    route.setRoute(action);
    if (p.fault() != null) {
      route.putTypedPerFilterConfig(FAULT_FILTER, Any.pack(fault(p.fault())));
    }
    if (p.cors() != null) {
      route.putTypedPerFilterConfig(CORS_FILTER, Any.pack(cors(p.cors())));
    }
    return route.build();
  }

  /**
   * {@code route} with what istiod adds to every VirtualService route of a sidecar or gateway: no
   * VirtualService timeout means none (0s, not Envoy's 15 s), and no {@code max_stream_duration};
   * no retries means the mesh default policy ({@link #meshRetry}); 0 attempts mean no retries.
   */
  static Route withMeshDefaults(Route route, HttpRoute r, PushContext push) {
    if (!route.hasRoute()) {
      return route;
    }
    RouteAction.Builder action = route.getRoute().toBuilder();
    if (r.policy().timeout() == null) {
      action.setTimeout(com.google.protobuf.Duration.getDefaultInstance());
      // and a gRPC request's grpc-timeout header applies without a cap (istiod's Notimeout)
      setMaxGrpcTimeout(action, com.google.protobuf.Duration.getDefaultInstance());
    }
    if (r.policy().retry() == null) {
      RetryPolicy mesh = meshRetry(push);
      if (mesh == null) {
        action.clearRetryPolicy();
      } else {
        action.setRetryPolicy(mesh);
      }
    } else if (r.policy().retry().attempts() == 0) {
      action.clearRetryPolicy();
    }
    return route.toBuilder().setRoute(action).build();
  }

  /**
   * Sets the route's {@code max_grpc_timeout}, deprecated in Envoy's API but what istiod still
   * sends to Envoy sidecars and gateways (its {@code route.setTimeout}): the replacement ({@code
   * max_stream_duration}) would time out the whole stream instead of the upstream request.
   */
  @SuppressWarnings("deprecation")
  private static void setMaxGrpcTimeout(
      RouteAction.Builder action, com.google.protobuf.Duration d) {
    action.setMaxGrpcTimeout(d);
  }

  /**
   * The retry policy of a route without VirtualService {@code retries}: MeshConfig {@code
   * defaultHttpRetryPolicy} when set (null when it allows 0 attempts), else Istio's built-in
   * default ({@link SidecarRouteGenerator#DEFAULT_RETRY}), as istiod's {@code retry.ConvertPolicy}.
   */
  static @Nullable RetryPolicy meshRetry(PushContext push) {
    HttpRoute.Retry r = push.defaultRetry();
    if (r == null) {
      return SidecarRouteGenerator.DEFAULT_RETRY;
    }
    return r.attempts() == 0 ? null : retry(r);
  }

  /**
   * {@code route} with the hash policy of its destinations' DestinationRule consistent hash, when
   * every destination has the same one (as istiod: a hash only makes sense if all clusters agree).
   */
  static Route withHashPolicy(
      Route route,
      List<HttpRoute.Destination> destinations,
      int defaultPort,
      Proxy proxy,
      PushContext push) {
    if (!route.hasRoute() || destinations.isEmpty()) {
      return route;
    }
    TrafficPolicy.ConsistentHash hash = null;
    for (HttpRoute.Destination d : destinations) {
      TrafficPolicy.ConsistentHash h =
          consistentHash(d, d.port() == 0 ? defaultPort : d.port(), proxy, push);
      if (h == null || (hash != null && !hash.equals(h))) {
        return route;
      }
      hash = h;
    }
    RouteAction.Builder action =
        route.getRoute().toBuilder().addHashPolicy(ClusterPolicies.hashPolicy(hash));
    if (action.hasRetryPolicy()) {
      // istiod's DefaultConsistentHashPolicy: a hashed route's retries stay on the hashed host,
      // so the previous-hosts predicate goes (an explicit retryIgnorePreviousHosts is not told
      // apart here)
      action.setRetryPolicy(action.getRetryPolicy().toBuilder().clearRetryHostPredicate());
    }
    return route.toBuilder().setRoute(action).build();
  }

  private static TrafficPolicy.@Nullable ConsistentHash consistentHash(
      HttpRoute.Destination d, int port, Proxy proxy, PushContext push) {
    Service service = push.registry().service(d.host()).orElse(null);
    if (service == null) {
      return null;
    }
    TrafficPolicy policy = push.trafficPolicy(service, proxy);
    for (TrafficPolicy.Subset s : policy.subsets()) {
      if (s.name().equals(d.subset())) {
        return s.settings(port).consistentHash();
      }
    }
    return policy.settings(port).consistentHash();
  }

  /**
   * The VirtualService retries as istiod converts them: the mesh default with the VirtualService's
   * attempts; {@code retryOn} numbers become {@code retriable_status_codes} (adding {@code
   * retriable-status-codes}); {@code retryIgnorePreviousHosts} keeps or drops the previous-hosts
   * predicate; {@code retryRemoteLocalities} adds the previous-priorities retry priority; {@code
   * backoff} is the base interval. 0 attempts disable retries (the caller drops the policy).
   */
  static RetryPolicy retry(HttpRoute.Retry r) {
    RetryPolicy.Builder b =
        SidecarRouteGenerator.DEFAULT_RETRY.toBuilder().setNumRetries(UInt32Value.of(r.attempts()));
    if (!r.retryOn().isEmpty()) {
      List<String> on = new java.util.ArrayList<>();
      List<Integer> codes = new java.util.ArrayList<>();
      for (String part : r.retryOn().split(",")) {
        String t = part.trim();
        if (t.isEmpty()) {
          continue;
        }
        if (t.chars().allMatch(Character::isDigit) && t.length() == 3) {
          codes.add(Integer.parseInt(t));
        } else {
          on.add(t);
        }
      }
      String retryOn = String.join(",", on);
      if (!codes.isEmpty() && !retryOn.contains("retriable-status-codes")) {
        retryOn =
            retryOn.isEmpty() ? "retriable-status-codes" : retryOn + ",retriable-status-codes";
      }
      b.setRetryOn(retryOn).clearRetriableStatusCodes().addAllRetriableStatusCodes(codes);
    }
    if (r.perTryTimeout() != null) {
      b.setPerTryTimeout(duration(r.perTryTimeout()));
    }
    if (r.retryIgnorePreviousHosts() != null && !r.retryIgnorePreviousHosts()) {
      b.clearRetryHostPredicate();
    }
    if (r.retryRemoteLocalities()) {
      b.setRetryPriority(
          RetryPolicy.RetryPriority.newBuilder()
              .setName("envoy.retry_priorities.previous_priorities")
              .setTypedConfig(
                  Any.pack(
                      io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
                          .PreviousPrioritiesConfig.newBuilder()
                          .setUpdateFrequency(2)
                          .build())));
    }
    if (r.backoff() != null) {
      b.setRetryBackOff(
          RetryPolicy.RetryBackOff.newBuilder().setBaseInterval(duration(r.backoff())));
    }
    return b.build();
  }

  /** A VirtualService {@code corsPolicy} as istiod emits it: a per-route {@code CorsPolicy}. */
  static io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy cors(HttpRoute.Cors c) {
    var b =
        io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.newBuilder()
            .setAllowMethods(String.join(",", c.allowMethods()))
            .setAllowHeaders(String.join(",", c.allowHeaders()))
            .setExposeHeaders(String.join(",", c.exposeHeaders()))
            .setFilterEnabled(
                RuntimeFractionalPercent.newBuilder()
                    .setDefaultValue(
                        FractionalPercent.newBuilder()
                            .setNumerator(100)
                            .setDenominator(FractionalPercent.DenominatorType.HUNDRED)));
    for (HttpRoute.HeaderMatch o : c.allowOrigins()) {
      b.addAllowOriginStringMatch(stringMatch(o));
    }
    if (c.maxAge() != null) {
      b.setMaxAge(Long.toString(c.maxAge().getSeconds()));
    }
    if (c.allowCredentials() != null) {
      b.setAllowCredentials(BoolValue.of(c.allowCredentials()));
    }
    if (c.forwardUnmatchedPreflights() != null) {
      b.setForwardNotMatchingPreflights(BoolValue.of(c.forwardUnmatchedPreflights()));
    }
    return b.build();
  }

  static HTTPFault fault(HttpRoute.Fault f) {
    HTTPFault.Builder b = HTTPFault.newBuilder();
    if (f.delay() != null) {
      b.setDelay(
          FaultDelay.newBuilder()
              .setFixedDelay(duration(f.delay()))
              .setPercentage(percent(f.delayPercent())));
    }
    if (f.abortHttpStatus() > 0 || f.abortGrpcStatus() >= 0) {
      FaultAbort.Builder a = FaultAbort.newBuilder().setPercentage(percent(f.abortPercent()));
      if (f.abortHttpStatus() > 0) {
        a.setHttpStatus(f.abortHttpStatus());
      } else {
        a.setGrpcStatus(f.abortGrpcStatus());
      }
      b.setAbort(a);
    }
    return b.build();
  }

  /** istiod: set replaces (OVERWRITE_IF_EXISTS_OR_ADD), add appends (APPEND_IF_EXISTS_OR_ADD). */
  private static void headerOps(Route.Builder route, HttpRoute.HeaderOps ops) {
    ops.requestSet().forEach((k, v) -> route.addRequestHeadersToAdd(header(k, v, OVERWRITE)));
    ops.requestAdd().forEach((k, v) -> route.addRequestHeadersToAdd(header(k, v, APPEND)));
    route.addAllRequestHeadersToRemove(ops.requestRemove());
    ops.responseSet().forEach((k, v) -> route.addResponseHeadersToAdd(header(k, v, OVERWRITE)));
    ops.responseAdd().forEach((k, v) -> route.addResponseHeadersToAdd(header(k, v, APPEND)));
    route.addAllResponseHeadersToRemove(ops.responseRemove());
  }

  private static final HeaderValueOption.HeaderAppendAction OVERWRITE =
      HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
  private static final HeaderValueOption.HeaderAppendAction APPEND =
      HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;

  private static HeaderValueOption header(
      String name, String value, HeaderValueOption.HeaderAppendAction action) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppendAction(action)
        .build();
  }

  private static RedirectAction redirect(HttpRoute.Redirect r) {
    RedirectAction.Builder b = RedirectAction.newBuilder();
    if (r.uri() != null) {
      b.setPathRedirect(r.uri());
    }
    if (r.authority() != null) {
      b.setHostRedirect(r.authority());
    }
    if (r.port() > 0) {
      b.setPortRedirect(r.port());
    }
    if (r.scheme() != null) {
      b.setSchemeRedirect(r.scheme());
    }
    b.setResponseCode(
        switch (r.code()) {
          case 302 -> RedirectAction.RedirectResponseCode.FOUND;
          case 303 -> RedirectAction.RedirectResponseCode.SEE_OTHER;
          case 307 -> RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT;
          case 308 -> RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT;
          default -> RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY;
        });
    return b.build();
  }

  private static StringMatcher stringMatch(HttpRoute.HeaderMatch h) {
    StringMatcher.Builder s = StringMatcher.newBuilder();
    switch (h.kind()) {
      case EXACT -> s.setExact(h.value());
      case PREFIX -> s.setPrefix(h.value());
      case REGEX -> s.setSafeRegex(regex(h.value()));
    }
    return s.build();
  }

  private static HeaderMatcher header(HttpRoute.HeaderMatch h) {
    return HeaderMatcher.newBuilder()
        .setName(h.name())
        .setStringMatch(stringMatch(h))
        .setInvertMatch(h.invert())
        .build();
  }

  private static RegexMatcher regex(String re) {
    return RegexMatcher.newBuilder().setRegex(re).build();
  }

  /** A percentage (0..100) as Istio emits it: per million. */
  private static FractionalPercent percent(double value) {
    return FractionalPercent.newBuilder()
        .setNumerator((int) Math.round(value * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  /**
   * istiod's span name for a route ({@code getRouteOperation}): {@code host:port} and the path
   * match ({@code prefix*}, the exact path or the regex). istiod names a route with several
   * destinations by its VirtualService; ours are not carried that far, so the first destination's
   * host names it.
   */
  static String operation(HttpRoute r, int defaultPort) {
    String path =
        switch (r.path()) {
          case HttpRoute.PathMatch.Prefix p -> p.prefix() + "*";
          case HttpRoute.PathMatch.Exact e -> e.path();
          case HttpRoute.PathMatch.Regex x -> x.regex();
        };
    HttpRoute.Destination d = r.destinations().getFirst();
    return d.host() + ":" + (d.port() == 0 ? defaultPort : d.port()) + path;
  }

  /** istiod's span name for a default route: {@code host:port/*}. */
  static io.envoyproxy.envoy.config.route.v3.Decorator defaultOperation(String host, int port) {
    return io.envoyproxy.envoy.config.route.v3.Decorator.newBuilder()
        .setOperation(host + ":" + port + "/*")
        .build();
  }

  private static String cluster(HttpRoute.Destination d, int defaultPort) {
    return ClusterName.outbound(d.port() == 0 ? defaultPort : d.port(), d.subset(), d.host());
  }
}
