package dev.bowline.controlplane.xds.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import dev.bowline.api.Decoded;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VirtualService HTTP routes from YAML to their Envoy form, field by field. */
class HttpRoutesTest {
  static final Service FORECAST =
      new Service("forecast.weather.svc.cluster.local", "weather", "forecast", List.of(), Map.of());
  static final Proxy PROXY =
      Proxy.builder(
              "sidecar~127.0.0.9~fe.weather~weather.svc.cluster.local",
              NodeType.SIDECAR,
              "127.0.0.9",
              "fe",
              "weather",
              "weather.svc.cluster.local")
          .clusterId("Kubernetes")
          .istioVersion("1.24")
          .build();

  static List<Route> routes(String httpYaml) {
    return httpRoutes(httpYaml).stream().map(r -> HttpRoutes.route(r, 8080)).toList();
  }

  static List<HttpRoute> httpRoutes(String httpYaml) {
    String yaml =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
        """
            + httpYaml.indent(2);
    Decoded d = new ResourceCodec().decode("vs.yaml", yaml);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    return IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system")
        .virtualServices()
        .httpRoutes(FORECAST, 8080, PROXY)
        .orElseThrow();
  }

  static FractionalPercent perMillion(int n) {
    return FractionalPercent.newBuilder()
        .setNumerator(n)
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  @Test
  void matchesWeightsTimeoutAndRetries() {
    String yaml =
        """
            - name: api
              match:
              - {name: exact, uri: {exact: /forecast}, headers: {x-env: {prefix: prod}}}
              - {uri: {regex: "/v[0-9]+/.*"}, ignoreUriCase: true, queryParams: {city: {exact: oslo}}}
              route:
              - {destination: {host: forecast, subset: v1}, weight: 75}
              - {destination: {host: forecast, subset: v2, port: {number: 9090}}, weight: 25}
              timeout: 1.5s
              retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "gateway-error,connect-failure"}
            """;
    List<Route> r = routes(yaml);
    assertThat(r).hasSize(2);
    Route exact = r.getFirst();
    assertThat(exact.getName()).isEqualTo("api.exact");
    assertThat(exact.getMatch().getPath()).isEqualTo("/forecast");
    assertThat(exact.getMatch().getHeaders(0).getStringMatch().getPrefix()).isEqualTo("prod");
    assertThat(r.get(1).getMatch().getSafeRegex().getRegex()).isEqualTo("/v[0-9]+/.*");
    assertThat(r.get(1).getMatch().getCaseSensitive().getValue()).isFalse();
    assertThat(r.get(1).getMatch().getQueryParameters(0).getName()).isEqualTo("city");
    assertThat(r.get(1).getMatch().getQueryParameters(0).getStringMatch().getExact())
        .isEqualTo("oslo");
    assertThat(exact.getMatch().hasCaseSensitive()).isFalse();
    var wc = exact.getRoute().getWeightedClusters().getClustersList();
    assertThat(wc)
        .extracting(c -> c.getName(), c -> c.getWeight().getValue())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "outbound|8080|v1|forecast.weather.svc.cluster.local", 75),
            org.assertj.core.groups.Tuple.tuple(
                "outbound|9090|v2|forecast.weather.svc.cluster.local", 25));
    assertThat(exact.getRoute().getTimeout()).isEqualTo(Durations.fromMillis(1500));
    // istiod's setTimeout: a sidecar's grpc-timeout header applies up to the timeout, and the
    // stream itself has no maximum duration (that one is a proxyless client's timeout)
    assertThat(maxGrpcTimeout(exact)).isEqualTo(Durations.fromMillis(1500));
    assertThat(exact.getRoute().hasMaxStreamDuration()).isFalse();
    Route proxyless = GrpcRouteGenerator.route(httpRoutes(yaml).getFirst(), 8080);
    assertThat(proxyless.getRoute().getTimeout()).isEqualTo(Durations.fromMillis(1500));
    assertThat(proxyless.getRoute().getMaxStreamDuration().getMaxStreamDuration())
        .isEqualTo(Durations.fromMillis(1500));
    assertThat(proxyless.getRoute().getMaxStreamDuration().hasGrpcTimeoutHeaderMax()).isFalse();
    assertThat(proxyless.getRoute().hasMaxGrpcTimeout()).isFalse();
    var retry = exact.getRoute().getRetryPolicy();
    assertThat(retry.getNumRetries().getValue()).isEqualTo(3);
    assertThat(retry.getPerTryTimeout()).isEqualTo(Durations.fromMillis(500));
    assertThat(retry.getRetryOn()).isEqualTo("gateway-error,connect-failure");
  }

  @Test
  void theTimeoutIsAMaxStreamDurationForProxylessClientsOnly() throws Exception {
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
          - route: [{destination: {host: forecast}}]
            timeout: 1.5s
        """;
    Decoded d = new ResourceCodec().decode("vs.yaml", vs);
    assertThat(d.rejected()).isEmpty();
    Map<ResourceKey, Resource<?>> m = new HashMap<>();
    d.resources().forEach(r -> m.put(r.key(), r));
    HttpRoute r =
        IstioConfigInputs.of(new ConfigSnapshot(1, m), "cluster.local", "istio-system")
            .virtualServices()
            .httpRoutes(FORECAST, 8080, PROXY)
            .orElseThrow()
            .getFirst();
    // the route as the proxyless gRPC generator sends it
    Route proxyless = GrpcRouteGenerator.route(r, 8080);
    assertThat(proxyless.getRoute().getMaxStreamDuration().getMaxStreamDuration())
        .isEqualTo(Durations.fromMillis(1500));
    // a sidecar's or gateway's: istiod's setTimeout sets no max_stream_duration there, which in
    // Envoy would answer before the route timeout, but max_grpc_timeout
    Route sidecar =
        HttpRoutes.withMeshDefaults(HttpRoutes.route(r, 8080), r, ExtAuthzGenTest.push(vs, "{}"));
    assertThat(sidecar.getRoute().hasMaxStreamDuration()).isFalse();
    assertThat(sidecar.getRoute().getTimeout()).isEqualTo(Durations.fromMillis(1500));
    assertThat(maxGrpcTimeout(sidecar)).isEqualTo(Durations.fromMillis(1500));
  }

  @Test
  void faultMirrorAndRewrite() throws Exception {
    Route r =
        routes(
                """
                - match: [{uri: {prefix: /old}}]
                  rewrite: {uri: /new, authority: forecast-v2}
                  route: [{destination: {host: forecast}}]
                  mirror: {host: forecast, subset: shadow}
                  mirrorPercentage: {value: 12.5}
                  fault:
                    delay: {fixedDelay: 2s, percentage: {value: 10}}
                    abort: {httpStatus: 503, percentage: {value: 0.5}}
                """)
            .getFirst();
    assertThat(r.getRoute().getCluster())
        .isEqualTo("outbound|8080||forecast.weather.svc.cluster.local");
    assertThat(r.getRoute().getPrefixRewrite()).isEqualTo("/new");
    assertThat(r.getRoute().getHostRewriteLiteral()).isEqualTo("forecast-v2");
    var mirror = r.getRoute().getRequestMirrorPolicies(0);
    assertThat(mirror.getCluster())
        .isEqualTo("outbound|8080|shadow|forecast.weather.svc.cluster.local");
    assertThat(mirror.getRuntimeFraction().getDefaultValue()).isEqualTo(perMillion(125_000));
    HTTPFault fault =
        r.getTypedPerFilterConfigOrThrow(HttpRoutes.FAULT_FILTER).unpack(HTTPFault.class);
    assertThat(fault.getDelay().getFixedDelay()).isEqualTo(Durations.fromSeconds(2));
    assertThat(fault.getDelay().getPercentage()).isEqualTo(perMillion(100_000));
    assertThat(fault.getAbort().getHttpStatus()).isEqualTo(503);
    assertThat(fault.getAbort().getPercentage()).isEqualTo(perMillion(5_000));
  }

  @Test
  void redirectAndRegexRewriteAndGrpcAbort() throws Exception {
    List<Route> r =
        routes(
            """
            - match: [{uri: {exact: /moved}}]
              redirect: {uri: /here, authority: new.example.com, redirectCode: 308}
            - rewrite: {uriRegexRewrite: {match: "^/api/(.*)", rewrite: "/\\\\1"}}
              route: [{destination: {host: forecast}}]
              fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
            """);
    RedirectAction redirect = r.getFirst().getRedirect();
    assertThat(redirect.getPathRedirect()).isEqualTo("/here");
    assertThat(redirect.getHostRedirect()).isEqualTo("new.example.com");
    assertThat(redirect.getResponseCode())
        .isEqualTo(RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT);
    assertThat(r.getFirst().hasRoute()).isFalse();
    var rx = r.get(1).getRoute().getRegexRewrite();
    assertThat(rx.getPattern().getRegex()).isEqualTo("^/api/(.*)");
    assertThat(rx.getSubstitution()).isEqualTo("/\\1");
    HTTPFault fault =
        r.get(1).getTypedPerFilterConfigOrThrow(HttpRoutes.FAULT_FILTER).unpack(HTTPFault.class);
    assertThat(fault.getAbort().getGrpcStatus()).isEqualTo(14);
    assertThat(fault.hasDelay()).isFalse();
  }

  @Test
  void pseudoHeaderAndNegativeMatchesDirectResponseAndHeaderOperations() {
    List<Route> r =
        routes(
            """
            - match:
              - method: {exact: POST}
                authority: {prefix: forecast}
                withoutHeaders: {x-debug: {exact: "1"}}
              directResponse: {status: 418, body: {string: "no forecast"}}
            - headers:
                request: {set: {x-mesh: bowline}, add: {x-trace: a}, remove: [x-secret]}
                response: {set: {cache-control: no-store}, remove: [server]}
              route: [{destination: {host: forecast}}]
            """);
    var headers = r.getFirst().getMatch().getHeadersList();
    assertThat(headers)
        .extracting(h -> h.getName(), h -> h.getInvertMatch())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(":method", false),
            org.assertj.core.groups.Tuple.tuple(":authority", false),
            org.assertj.core.groups.Tuple.tuple("x-debug", true));
    assertThat(headers.get(1).getStringMatch().getPrefix()).isEqualTo("forecast");
    assertThat(r.getFirst().getDirectResponse().getStatus()).isEqualTo(418);
    assertThat(r.getFirst().getDirectResponse().getBody().getInlineString())
        .isEqualTo("no forecast");
    Route ops = r.get(1);
    assertThat(ops.getRequestHeadersToAddList())
        .extracting(o -> o.getHeader().getKey(), o -> o.getAppendAction())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "x-mesh",
                io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction
                    .OVERWRITE_IF_EXISTS_OR_ADD),
            org.assertj.core.groups.Tuple.tuple(
                "x-trace",
                io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction
                    .APPEND_IF_EXISTS_OR_ADD));
    assertThat(ops.getRequestHeadersToRemoveList()).containsExactly("x-secret");
    assertThat(ops.getResponseHeadersToAdd(0).getHeader().getValue()).isEqualTo("no-store");
    assertThat(ops.getResponseHeadersToRemoveList()).containsExactly("server");
  }

  @Test
  void retriesAsIstiodConvertsThem() {
    List<Route> r =
        routes(
            """
            - match: [{uri: {prefix: /a}}]
              route: [{destination: {host: forecast}}]
              retries:
                attempts: 3
                retryOn: "5xx,503,429,reset"
                retryRemoteLocalities: true
                retryIgnorePreviousHosts: false
                backoff: 50ms
            - route: [{destination: {host: forecast}}]
              retries: {attempts: 4}
            """);
    var a = r.getFirst().getRoute().getRetryPolicy();
    assertThat(a.getNumRetries().getValue()).isEqualTo(3);
    assertThat(a.getRetryOn()).isEqualTo("5xx,reset,retriable-status-codes");
    assertThat(a.getRetriableStatusCodesList()).containsExactly(503, 429);
    assertThat(a.getRetryHostPredicateList()).isEmpty();
    assertThat(a.getRetryPriority().getName())
        .isEqualTo("envoy.retry_priorities.previous_priorities");
    assertThat(a.getRetryBackOff().getBaseInterval()).isEqualTo(Durations.fromMillis(50));
    assertThat(a.getHostSelectionRetryMaxAttempts()).isEqualTo(5);
    var b = r.get(1).getRoute().getRetryPolicy();
    // no retryOn: the mesh default's conditions, predicate and 503
    assertThat(b.getNumRetries().getValue()).isEqualTo(4);
    assertThat(b.getRetryOn())
        .isEqualTo("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
    assertThat(b.getRetriableStatusCodesList()).containsExactly(503);
    assertThat(b.getRetryHostPredicate(0).getName())
        .isEqualTo("envoy.retry_host_predicates.previous_hosts");
  }

  @Test
  void corsPolicyIsThePerRouteConfigOfTheCorsFilter() throws Exception {
    Route r =
        routes(
                """
                - route: [{destination: {host: forecast}}]
                  corsPolicy:
                    allowOrigins: [{exact: "https://a.example"}, {regex: "https://.*[.]b[.]example"}]
                    allowMethods: [GET, POST]
                    allowHeaders: [x-a]
                    exposeHeaders: [x-b, x-c]
                    maxAge: 24h
                    allowCredentials: true
                """)
            .getFirst();
    var cors =
        r.getTypedPerFilterConfigOrThrow(HttpRoutes.CORS_FILTER)
            .unpack(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class);
    assertThat(cors.getAllowOriginStringMatch(0).getExact()).isEqualTo("https://a.example");
    assertThat(cors.getAllowOriginStringMatch(1).getSafeRegex().getRegex())
        .isEqualTo("https://.*[.]b[.]example");
    assertThat(cors.getAllowMethods()).isEqualTo("GET,POST");
    assertThat(cors.getAllowHeaders()).isEqualTo("x-a");
    assertThat(cors.getExposeHeaders()).isEqualTo("x-b,x-c");
    assertThat(cors.getMaxAge()).isEqualTo("86400");
    assertThat(cors.getAllowCredentials().getValue()).isTrue();
    assertThat(cors.getFilterEnabled().getDefaultValue().getNumerator()).isEqualTo(100);
  }

  @Test
  void everyMirrorBecomesAMirrorPolicy() {
    Route r =
        routes(
                """
                - route: [{destination: {host: forecast, subset: v1}}]
                  mirrors:
                  - {destination: {host: forecast, subset: v2}, percentage: {value: 12.5}}
                  - {destination: {host: forecast, subset: v3}}
                """)
            .getFirst();
    var m = r.getRoute().getRequestMirrorPoliciesList();
    assertThat(m)
        .extracting(x -> x.getCluster(), x -> x.getRuntimeFraction().getDefaultValue())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "outbound|8080|v2|forecast.weather.svc.cluster.local", perMillion(125_000)),
            org.assertj.core.groups.Tuple.tuple(
                "outbound|8080|v3|forecast.weather.svc.cluster.local", perMillion(1_000_000)));
  }

  @Test
  void destinationHeadersGoOnTheRouteOrOnTheirWeightedCluster() {
    List<Route> r =
        routes(
            """
            - match: [{uri: {prefix: /one}}]
              route:
              - destination: {host: forecast}
                headers: {request: {set: {x-a: "1"}}, response: {remove: [x-b]}}
            - route:
              - destination: {host: forecast, subset: v1}
                weight: 90
                headers: {request: {add: {x-v: "1"}}}
              - destination: {host: forecast, subset: v2}
                weight: 10
                headers: {response: {set: {x-v: "2"}}}
            """);
    Route one = r.getFirst();
    assertThat(one.getRequestHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-a");
    assertThat(one.getResponseHeadersToRemoveList()).containsExactly("x-b");
    var wc = r.get(1).getRoute().getWeightedClusters();
    assertThat(wc.getClusters(0).getRequestHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-v");
    assertThat(wc.getClusters(0).getRequestHeadersToAdd(0).getAppendAction())
        .isEqualTo(
            io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction
                .APPEND_IF_EXISTS_OR_ADD);
    assertThat(wc.getClusters(1).getResponseHeadersToAdd(0).getHeader().getValue()).isEqualTo("2");
    assertThat(r.get(1).getRequestHeadersToAddCount()).isZero();
  }

  @Test
  void aHashedRouteRetriesWithoutThePreviousHostsPredicate() {
    var routes =
        new SidecarRouteGenerator()
            .generate(
                PROXY, ClusterPoliciesTest.push(), ResourceNames.of(java.util.Set.of("8080")));
    var rc = (io.envoyproxy.envoy.config.route.v3.RouteConfiguration) routes.get("8080");
    var action = rc.getVirtualHosts(0).getRoutes(0).getRoute();
    assertThat(action.getHashPolicyList()).isNotEmpty();
    assertThat(action.getRetryPolicy().getNumRetries().getValue()).isEqualTo(2);
    assertThat(action.getRetryPolicy().getRetryHostPredicateList()).isEmpty();
  }

  @SuppressWarnings("deprecation") // max_grpc_timeout: what istiod sends sidecars
  private static com.google.protobuf.Duration maxGrpcTimeout(Route r) {
    return r.getRoute().getMaxGrpcTimeout();
  }
}
