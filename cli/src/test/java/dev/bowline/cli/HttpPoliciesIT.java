package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VirtualService route policies end to end (issue #8): Istio YAML in a watched directory →
 * Bowline's control plane → the client's sidecar (retries, timeouts, fault, CORS, mirror are
 * enforced there) → the backend's sidecar → the app. Assertions are on shares over many requests.
 */
class HttpPoliciesIT {
  static final String POLICIES =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: forecast, namespace: weather}
      spec:
        host: forecast
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
        - {name: v3, labels: {version: v3}}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: forecast, namespace: weather}
      spec:
        hosts: [forecast]
        http:
        - match: [{uri: {prefix: /flaky-retry}}]
          route: [{destination: {host: forecast, subset: v1}}]
          retries: {attempts: 3, retryOn: 5xx}
        - match: [{uri: {prefix: /flaky-none}}]
          route: [{destination: {host: forecast, subset: v1}}]
          retries: {attempts: 0}
        - match: [{uri: {prefix: /flaky-default}}]
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /fault}}]
          fault: {abort: {httpStatus: 503, percentage: {value: 50}}}
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /delay}}]
          fault: {delay: {fixedDelay: 300ms, percentage: {value: 100}}}
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /slow}}]
          timeout: 300ms
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /cors}}]
          corsPolicy:
            allowOrigins: [{exact: "https://weather.example"}]
            allowMethods: [GET]
            allowHeaders: [x-city]
            maxAge: 1h
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /mirror}}]
          route: [{destination: {host: forecast, subset: v1}}]
          mirror: {host: forecast, subset: v2}
          mirrorPercentage: {value: 50}
        - match: [{uri: {prefix: /split}}]
          route:
          - destination: {host: forecast, subset: v1}
            weight: 50
            headers: {request: {set: {x-dest: one}}, response: {add: {x-dest-resp: one}}}
          - destination: {host: forecast, subset: v2}
            weight: 50
            headers: {request: {set: {x-dest: two}}, response: {add: {x-dest-resp: two}}}
        - match: [{uri: {prefix: /old}}]
          redirect: {uri: /new, authority: new.example, redirectCode: 308}
        - match: [{uri: {prefix: /rw/}}]
          rewrite: {uri: /got/}
          route: [{destination: {host: forecast, subset: v1}}]
        - match: [{uri: {prefix: /limited}}]
          route: [{destination: {host: forecast, subset: v3}}]
        - route: [{destination: {host: forecast, subset: v1}}]
      ---
      # Istio's documented local rate limit, per route (Envoy's local_ratelimit via EnvoyFilter),
      # on the v3 instance's inbound sidecar: 4 requests a minute.
      apiVersion: networking.istio.io/v1alpha3
      kind: EnvoyFilter
      metadata: {name: filter-local-ratelimit-svc, namespace: istio-system}
      spec:
        workloadSelector:
          labels: {app: forecast, version: v3}
        configPatches:
        - applyTo: HTTP_FILTER
          match:
            context: SIDECAR_INBOUND
            listener:
              filterChain:
                filter: {name: envoy.filters.network.http_connection_manager}
          patch:
            operation: INSERT_BEFORE
            value:
              name: envoy.filters.http.local_ratelimit
              typed_config:
                "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                value: {stat_prefix: http_local_rate_limiter}
        - applyTo: HTTP_ROUTE
          match:
            context: SIDECAR_INBOUND
            routeConfiguration:
              vhost:
                name: "inbound|http|8080"
                route: {action: ANY}
          patch:
            operation: MERGE
            value:
              typed_per_filter_config:
                envoy.filters.http.local_ratelimit:
                  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  value:
                    stat_prefix: http_local_rate_limiter
                    token_bucket: {max_tokens: 4, tokens_per_fill: 4, fill_interval: 60s}
                    filter_enabled:
                      runtime_key: local_rate_limit_enabled
                      default_value: {numerator: 100, denominator: HUNDRED}
                    filter_enforced:
                      runtime_key: local_rate_limit_enforced
                      default_value: {numerator: 100, denominator: HUNDRED}
                    response_headers_to_add:
                    - append: false
                      header: {key: x-local-rate-limit, value: "true"}
      """;

  @TempDir static Path dir;
  static PolicyMesh mesh;

  @BeforeAll
  static void start() throws Exception {
    mesh = new PolicyMesh(dir, TestNet.ip("127.0.9"), List.of("v1", "v2", "v3"));
    mesh.apply("policies.yaml", POLICIES);
    // the VirtualService is in force once the CORS route answers preflights; the EnvoyFilter once
    // the v3 sidecar's inbound listener has the filter (its token bucket starts full)
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> preflight().headers().firstValue("access-control-allow-origin").isPresent());
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.proxies.get(3).snapshot().toString().contains("local_ratelimit"));
  }

  @AfterAll
  static void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  static HttpResponse<String> preflight() {
    return mesh.call(
        PolicyMesh.to("/cors")
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
            .header("origin", "https://weather.example")
            .header("access-control-request-method", "GET"));
  }

  static double successShare(String path, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      if (mesh.get(path).statusCode() == 200) {
        ok++;
      }
    }
    return ok / (double) n;
  }

  @Test
  void retriesTurnABackendFailingTwoOfThreeIntoSuccess() {
    double withRetries = successShare("/flaky-retry", 200);
    double without = successShare("/flaky-none", 300);
    double meshDefault = successShare("/flaky-default", 200);
    System.out.printf(
        "retries: attempts=3 %.3f, attempts=0 %.3f, Istio default %.3f%n",
        withRetries, without, meshDefault);
    assertThat(withRetries).isGreaterThanOrEqualTo(0.99);
    assertThat(without).isLessThan(0.70);
    // Istio's default policy retries 503 (retriable-status-codes) twice
    assertThat(meshDefault).isGreaterThanOrEqualTo(0.99);
    assertThat(mesh.get("/flaky-retry").body()).contains("attempt=3");
  }

  @Test
  void faultAbortsHalfOfTheRequestsAndDelaysWhereTheRouteSaysSo() {
    int aborted = 0;
    int n = 2000;
    for (int i = 0; i < n; i++) {
      var r = mesh.get("/fault");
      if (r.statusCode() == 503) {
        assertThat(r.body()).isEqualTo("fault filter abort");
        aborted++;
      } else {
        assertThat(r.statusCode()).isEqualTo(200);
      }
    }
    double share = aborted / (double) n;
    System.out.printf("fault abort 50%%: %.3f of %d%n", share, n);
    assertThat(share).isBetween(0.45, 0.55);

    long t0 = System.nanoTime();
    assertThat(mesh.get("/delay").statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300));
    // other routes are neither aborted nor delayed
    for (int i = 0; i < 50; i++) {
      assertThat(mesh.get("/other").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void theRouteTimeoutAnswers504() {
    var r = mesh.get("/slow");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    // the backend answers after a second: only the timeout can have answered this
  }

  @Test
  void corsPreflightIsAnsweredByTheSidecar() {
    PolicyMesh.App v1 = mesh.apps.getFirst();
    int before = v1.count("/cors");
    var pre = preflight();
    assertThat(pre.statusCode()).isEqualTo(200);
    assertThat(pre.headers().firstValue("access-control-allow-methods")).contains("GET");
    assertThat(pre.headers().firstValue("access-control-allow-headers")).contains("x-city");
    assertThat(pre.headers().firstValue("access-control-max-age")).contains("3600");
    assertThat(v1.count("/cors")).isEqualTo(before);
    var get = mesh.call(PolicyMesh.to("/cors").header("origin", "https://weather.example"));
    assertThat(get.body()).startsWith("instance=forecast-v1-0");
    assertThat(get.headers().firstValue("access-control-allow-origin"))
        .contains("https://weather.example");
    var other = mesh.call(PolicyMesh.to("/cors").header("origin", "https://evil.example"));
    assertThat(other.headers().firstValue("access-control-allow-origin")).isEmpty();
  }

  @Test
  void mirrorSendsHalfToTheShadowAndTheClientSeesOnlyTheMainAnswer() {
    PolicyMesh.App v2 = mesh.apps.get(1);
    int n = 400;
    for (int i = 0; i < n; i++) {
      var r = mesh.get("/mirror");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).startsWith("instance=forecast-v1-0");
    }
    await().pollDelay(Duration.ofMillis(300)).until(() -> true);
    int mirrored = v2.count("/mirror");
    System.out.printf("mirror 50%%: %d of %d%n", mirrored, n);
    assertThat(mirrored).isBetween(160, 240);
    assertThat(v2.hostByPath.get("/mirror")).isEqualTo(PolicyMesh.HOST + "-shadow:8080");
  }

  @Test
  void anEnvoyFilterLocalRateLimitAnswers429PastTheBucket() {
    int ok = 0;
    int limited = 0;
    for (int i = 0; i < 10; i++) {
      var r = mesh.get("/limited");
      if (r.statusCode() == 200) {
        assertThat(r.body()).startsWith("instance=forecast-v3-2");
        ok++;
      } else {
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.body()).isEqualTo("local_rate_limited");
        assertThat(r.headers().firstValue("x-local-rate-limit")).contains("true");
        limited++;
      }
    }
    System.out.printf("local rate limit 4/min: %d ok, %d limited%n", ok, limited);
    assertThat(ok).isEqualTo(4);
    assertThat(limited).isEqualTo(6);
    // the other instances have no limit
    for (int i = 0; i < 10; i++) {
      assertThat(mesh.get("/other").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void destinationHeadersRedirectAndRewrite() {
    int ones = 0;
    for (int i = 0; i < 200; i++) {
      var r = mesh.get("/split");
      assertThat(r.statusCode()).isEqualTo(200);
      String dest = r.body().contains("instance=forecast-v1-0") ? "one" : "two";
      assertThat(r.body()).contains("x-dest=" + dest);
      assertThat(r.headers().firstValue("x-dest-resp")).contains(dest);
      ones += dest.equals("one") ? 1 : 0;
    }
    System.out.printf("split 50/50 with destination headers: %d of 200 to v1%n", ones);
    assertThat(ones).isBetween(65, 135);

    var redirect = mesh.get("/old/x");
    assertThat(redirect.statusCode()).isEqualTo(308);
    assertThat(redirect.headers().firstValue("location")).contains("http://new.example/new");

    assertThat(mesh.get("/rw/a?b=1").body()).contains("path=/got/a?b=1");
  }
}
