package dev.bowline.api.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io VirtualService: routing rules for hosts. */
public record VirtualService(
    List<String> hosts,
    List<String> gateways,
    List<HTTPRoute> http,
    List<TLSRoute> tls,
    List<TCPRoute> tcp,
    List<String> exportTo)
    implements Spec {
  public VirtualService {
    hosts = Freeze.list(hosts);
    gateways = Freeze.list(gateways);
    http = Freeze.list(http);
    tls = Freeze.list(tls);
    tcp = Freeze.list(tcp);
    exportTo = Freeze.list(exportTo);
  }

  /** An HTTP route: conditions and what to do (route, redirect, direct response or delegate). */
  public record HTTPRoute(
      @Nullable String name,
      List<HTTPMatchRequest> match,
      List<HTTPRouteDestination> route,
      @Nullable HTTPRedirect redirect,
      @Nullable HTTPDirectResponse directResponse,
      @Nullable Delegate delegate,
      @Nullable HTTPRewrite rewrite,
      @Nullable Duration timeout,
      @Nullable HTTPRetry retries,
      @Nullable HTTPFaultInjection fault,
      @Nullable Destination mirror,
      @Nullable Integer mirrorPercent,
      @Nullable Percent mirrorPercentage,
      List<HTTPMirrorPolicy> mirrors,
      @Nullable CorsPolicy corsPolicy,
      @Nullable Headers headers) {
    public HTTPRoute {
      match = Freeze.list(match);
      route = Freeze.list(route);
      mirrors = Freeze.list(mirrors);
    }
  }

  /** Another VirtualService that holds this route's rules. */
  public record Delegate(@Nullable String name, @Nullable String namespace) {}

  /** Header manipulation for requests and responses. */
  public record Headers(@Nullable HeaderOperations request, @Nullable HeaderOperations response) {

    /** Set, add and remove headers. */
    public record HeaderOperations(
        Map<String, String> set, Map<String, String> add, List<String> remove) {
      public HeaderOperations {
        set = Freeze.map(set);
        add = Freeze.map(add);
        remove = Freeze.list(remove);
      }
    }
  }

  /** A TLS route, matched by SNI. */
  public record TLSRoute(List<TLSMatchAttributes> match, List<RouteDestination> route) {
    public TLSRoute {
      match = Freeze.list(match);
      route = Freeze.list(route);
    }
  }

  /** A TCP route. */
  public record TCPRoute(List<L4MatchAttributes> match, List<RouteDestination> route) {
    public TCPRoute {
      match = Freeze.list(match);
      route = Freeze.list(route);
    }
  }

  /** Conditions on an HTTP request; all must hold. */
  public record HTTPMatchRequest(
      @Nullable String name,
      @Nullable StringMatch uri,
      @Nullable StringMatch scheme,
      @Nullable StringMatch method,
      @Nullable StringMatch authority,
      Map<String, StringMatch> headers,
      @Nullable Integer port,
      Map<String, String> sourceLabels,
      List<String> gateways,
      Map<String, StringMatch> queryParams,
      @Nullable Boolean ignoreUriCase,
      Map<String, StringMatch> withoutHeaders,
      @Nullable String sourceNamespace,
      @Nullable String statPrefix) {
    public HTTPMatchRequest {
      headers = Freeze.map(headers);
      sourceLabels = Freeze.map(sourceLabels);
      gateways = Freeze.list(gateways);
      queryParams = Freeze.map(queryParams);
      withoutHeaders = Freeze.map(withoutHeaders);
    }
  }

  /** An HTTP destination with its weight and header changes. */
  public record HTTPRouteDestination(
      @Nullable Destination destination, @Nullable Integer weight, @Nullable Headers headers) {}

  /** A TCP/TLS destination with its weight. */
  public record RouteDestination(@Nullable Destination destination, @Nullable Integer weight) {}

  /** Conditions on a TCP connection. */
  public record L4MatchAttributes(
      List<String> destinationSubnets,
      @Nullable Integer port,
      @Nullable String sourceSubnet,
      Map<String, String> sourceLabels,
      List<String> gateways,
      @Nullable String sourceNamespace) {
    public L4MatchAttributes {
      destinationSubnets = Freeze.list(destinationSubnets);
      sourceLabels = Freeze.map(sourceLabels);
      gateways = Freeze.list(gateways);
    }
  }

  /** Conditions on a TLS connection. */
  public record TLSMatchAttributes(
      List<String> sniHosts,
      List<String> destinationSubnets,
      @Nullable Integer port,
      Map<String, String> sourceLabels,
      List<String> gateways,
      @Nullable String sourceNamespace) {
    public TLSMatchAttributes {
      sniHosts = Freeze.list(sniHosts);
      destinationSubnets = Freeze.list(destinationSubnets);
      sourceLabels = Freeze.map(sourceLabels);
      gateways = Freeze.list(gateways);
    }
  }

  /** A redirect response; {@code port} and {@code derivePort} are alternatives. */
  public record HTTPRedirect(
      @Nullable String uri,
      @Nullable String authority,
      @Nullable Integer port,
      @Nullable RedirectPortSelection derivePort,
      @Nullable String scheme,
      @Nullable Integer redirectCode) {
    public HTTPRedirect {
      Freeze.atMostOne("port, derivePort", port, derivePort);
    }

    /** Which port a redirect keeps. */
    public enum RedirectPortSelection {
      FROM_PROTOCOL_DEFAULT,
      FROM_REQUEST_PORT
    }
  }

  /** A fixed response. */
  public record HTTPDirectResponse(@Nullable Integer status, @Nullable HTTPBody body) {}

  /** A response body: {@code string} or base64 {@code bytes}. */
  public record HTTPBody(@Nullable String string, @Nullable String bytes) {
    public HTTPBody {
      Freeze.atMostOne("string, bytes", string, bytes);
    }
  }

  /** Rewrites before forwarding. */
  public record HTTPRewrite(
      @Nullable String uri, @Nullable String authority, @Nullable RegexRewrite uriRegexRewrite) {}

  /** Rewrite with an RE2 regex and a replacement. */
  public record RegexRewrite(@Nullable String match, @Nullable String rewrite) {}

  /** Retry policy. */
  public record HTTPRetry(
      @Nullable Integer attempts,
      @Nullable Duration perTryTimeout,
      @Nullable String retryOn,
      @Nullable Boolean retryRemoteLocalities,
      @Nullable Boolean retryIgnorePreviousHosts,
      @Nullable Duration backoff) {}

  /** Cross-origin resource sharing. */
  public record CorsPolicy(
      List<String> allowOrigin,
      List<StringMatch> allowOrigins,
      List<String> allowMethods,
      List<String> allowHeaders,
      List<String> exposeHeaders,
      @Nullable Duration maxAge,
      @Nullable Boolean allowCredentials,
      @Nullable UnmatchedPreflights unmatchedPreflights) {
    public CorsPolicy {
      allowOrigin = Freeze.list(allowOrigin);
      allowOrigins = Freeze.list(allowOrigins);
      allowMethods = Freeze.list(allowMethods);
      allowHeaders = Freeze.list(allowHeaders);
      exposeHeaders = Freeze.list(exposeHeaders);
    }

    /** What happens to a preflight request whose origin is not allowed. */
    public enum UnmatchedPreflights {
      UNSPECIFIED,
      FORWARD,
      IGNORE
    }
  }

  /** Faults to inject: delays and aborts. */
  public record HTTPFaultInjection(@Nullable Delay delay, @Nullable Abort abort) {

    /** A delay: {@code fixedDelay} (or {@code exponentialDelay}) for a share of requests. */
    public record Delay(
        @Nullable Duration fixedDelay,
        @Nullable Duration exponentialDelay,
        @Nullable Percent percentage,
        @Nullable Integer percent) {
      public Delay {
        Freeze.atMostOne("fixedDelay, exponentialDelay", fixedDelay, exponentialDelay);
      }
    }

    /** An abort with an HTTP status, gRPC status or HTTP/2 error for a share of requests. */
    public record Abort(
        @Nullable Integer httpStatus,
        @Nullable String grpcStatus,
        @Nullable String http2Error,
        @Nullable Percent percentage) {
      public Abort {
        Freeze.atMostOne("httpStatus, grpcStatus, http2Error", httpStatus, grpcStatus, http2Error);
      }
    }
  }

  /** A mirror destination with the share of traffic it gets. */
  public record HTTPMirrorPolicy(@Nullable Destination destination, @Nullable Percent percentage) {}
}
