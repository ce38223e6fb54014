package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Route policies enforced by the proxy over real sockets: retries (retry_on conditions, attempt
 * count, previous hosts), timeouts (route, per try, x-envoy-upstream-rq-timeout-ms) and the fault
 * filter (abort HTTP and gRPC, delay, fractions).
 */
class HttpPoliciesTest {
  static final String IP = "127.0.7.1";
  static PolicyBackend one;
  static PolicyBackend bad1;
  static PolicyBackend bad2;
  static PolicyBackend good;
  static ServerSocket resetter;
  static final AtomicInteger resets = new AtomicInteger();
  static Proxy proxy;
  static int httpPort;
  static int adminPort;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String bootstrap() {
    String retry5xx = "{retry_on: 5xx, num_retries: 2}";
    return """
        node: {id: policies-test, cluster: test}
        admin:
          address: {socket_address: {address: %1$s, port_value: %3$d}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: policies
                  internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
                  http_filters:
                  - name: envoy.filters.http.fault
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}
                  - name: envoy.filters.http.cors
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
                  - name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      stat_prefix: http_local_rate_limiter
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      include_request_attempt_count: true
                      routes:
                      - match: {prefix: /flaky/retry}
                        route: {cluster: one, prefix_rewrite: /flaky/a, retry_policy: %4$s}
                      - match: {prefix: /flaky/none}
                        route: {cluster: one, prefix_rewrite: /flaky/b}
                      - match: {prefix: /status/}
                        route:
                          cluster: one
                          retry_policy:
                            retry_on: retriable-status-codes,retriable-4xx
                            num_retries: 2
                            retriable_status_codes: [418]
                      - match: {prefix: /grpc-deadline}
                        route: {cluster: one, prefix_rewrite: /slow, timeout: 0s, max_grpc_timeout: 0s}
                      - match: {prefix: /grpc-capped}
                        route: {cluster: one, prefix_rewrite: /slow, timeout: 0s, max_grpc_timeout: 0.2s}
                      - match: {prefix: /grpc/}
                        route: {cluster: one, retry_policy: {retry_on: "unavailable,cancelled", num_retries: 2}}
                      - match: {prefix: /header}
                        route:
                          cluster: one
                          retry_policy:
                            retry_on: retriable-headers
                            num_retries: 1
                            retriable_headers: [{name: x-retry-me, string_match: {exact: "yes"}}]
                      - match: {prefix: /reset}
                        route: {cluster: resetter, retry_policy: {retry_on: reset, num_retries: 2}}
                      - match: {prefix: /hosts}
                        route:
                          cluster: three
                          prefix_rewrite: /status/503
                          retry_policy:
                            retry_on: 5xx
                            num_retries: 2
                            retry_host_predicate:
                            - name: envoy.retry_host_predicates.previous_hosts
                              typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}
                            host_selection_retry_max_attempts: 50
                      - match: {prefix: /slow-first}
                        route: {cluster: one, retry_policy: {retry_on: 5xx, num_retries: 1, per_try_timeout: 0.3s}}
                      - match: {prefix: /slow-pertry}
                        route: {cluster: one, prefix_rewrite: /slow, retry_policy: {retry_on: connect-failure, num_retries: 1, per_try_timeout: 0.2s}}
                      - match: {prefix: /idle}
                        route: {cluster: one, prefix_rewrite: /slow, idle_timeout: 0.2s}
                      - match: {prefix: /wc}
                        route:
                          weighted_clusters:
                            clusters:
                            - name: one
                              weight: 1
                              request_headers_to_add: [{header: {key: x-wc, value: one}}]
                              response_headers_to_add: [{header: {key: x-wc-resp, value: one}}]
                      - match: {prefix: /slow}
                        route: {cluster: one, timeout: 0.2s}
                      - match: {prefix: /long}
                        route: {cluster: one, prefix_rewrite: /slow}
                      - match: {prefix: /abort}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {http_status: 503, percentage: {numerator: 100}}
                      - match: {prefix: /half}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {http_status: 500, percentage: {numerator: 5000, denominator: TEN_THOUSAND}}
                      - match: {prefix: /grpc-abort}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            abort: {grpc_status: 8, percentage: {numerator: 1000000, denominator: MILLION}}
                      - match: {prefix: /delay}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.fault:
                            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                            type_url: type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                            value: {delay: {fixed_delay: 0.3s, percentage: {numerator: 100}}}
                      - match: {prefix: /cors}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.cors:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                            allow_origin_string_match:
                            - exact: https://a.example
                            - prefix: https://b.
                            - safe_regex: {regex: "https://[a-z]+[.]c[.]example"}
                            allow_methods: GET,POST
                            allow_headers: x-a
                            expose_headers: x-b
                            max_age: "600"
                            allow_credentials: true
                      - match: {prefix: /limited}
                        route: {cluster: one}
                        typed_per_filter_config:
                          envoy.filters.http.local_ratelimit:
                            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            value:
                              stat_prefix: http_local_rate_limiter
                              token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s}
                              filter_enabled: {runtime_key: e, default_value: {numerator: 100, denominator: HUNDRED}}
                              filter_enforced: {runtime_key: f, default_value: {numerator: 100, denominator: HUNDRED}}
                              response_headers_to_add:
                              - {append: false, header: {key: x-local-rate-limit, value: "true"}}
                              - {header: {key: x-rl-note, value: once}}
                              enable_x_ratelimit_headers: DRAFT_VERSION_03
                      - match: {prefix: /redir/}
                        redirect:
                          https_redirect: true
                          host_redirect: new.example
                          port_redirect: 8443
                          prefix_rewrite: /new/
                          response_code: TEMPORARY_REDIRECT
                      - match: {prefix: /rx/}
                        route:
                          cluster: one
                          regex_rewrite: {pattern: {regex: "^/rx/([a-z]+)/end$"}, substitution: '/got/\\1'}
                      - match: {prefix: /mirror}
                        route:
                          cluster: one
                          timeout: 7s
                          retry_policy: {retry_on: connect-failure, num_retries: 1, per_try_timeout: 2s}
                          request_mirror_policies:
                          - cluster: shadow
                            runtime_fraction: {default_value: {numerator: 100}}
                      - match: {prefix: /}
                        route: {cluster: one}
          clusters:
          - name: shadow
            type: STATIC
            load_assignment:
              cluster_name: shadow
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %8$s, port_value: %9$d}}}}]}]
          - name: one
            type: STATIC
            load_assignment:
              cluster_name: one
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %5$s, port_value: %6$d}}}}]}]
          - name: resetter
            type: STATIC
            load_assignment:
              cluster_name: resetter
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %1$s, port_value: %7$d}}}}]}]
          - name: three
            type: STATIC
            lb_policy: RANDOM
            load_assignment:
              cluster_name: three
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: %8$s, port_value: %9$d}}}
                - endpoint: {address: {socket_address: {address: %10$s, port_value: %11$d}}}
                - endpoint: {address: {socket_address: {address: %12$s, port_value: %13$d}}}
        """
        .formatted(
            IP,
            httpPort,
            adminPort,
            retry5xx,
            one.ip(),
            one.port(),
            resetter.getLocalPort(),
            bad1.ip(),
            bad1.port(),
            bad2.ip(),
            bad2.port(),
            good.ip(),
            good.port());
  }

  @BeforeAll
  static void start() throws IOException {
    one = new PolicyBackend("one", "127.0.7.2");
    bad1 = new PolicyBackend("bad1", "127.0.7.3");
    bad2 = new PolicyBackend("bad2", "127.0.7.4");
    good = new PolicyBackend("good", "127.0.7.5");
    good.server.removeContext("/");
    good.server.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          byte[] b = "backend=good".getBytes();
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    resetter = new ServerSocket(0, 50, InetAddress.getByName(IP));
    Thread.ofVirtual()
        .start(
            () -> {
              while (!resetter.isClosed()) {
                try (Socket s = resetter.accept()) {
                  resets.incrementAndGet();
                  s.getInputStream().read(new byte[4096]);
                } catch (IOException e) {
                  // closed
                }
              }
            });
    httpPort = Ports.free(IP);
    adminPort = Ports.free(IP);
    var bs = new BootstrapLoader().parse("policies.yaml", bootstrap());
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    one.close();
    bad1.close();
    bad2.close();
    good.close();
    resetter.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path))
            .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static long stat(String name) throws Exception {
    String stats =
        client
            .send(
                HttpRequest.newBuilder(URI.create("http://" + IP + ":" + adminPort + "/stats"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    for (String line : stats.lines().toList()) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  @Test
  void fiveXxIsRetriedUntilTheBackendAnswersWithTheAttemptCount() throws Exception {
    int ok = 0;
    long retriesBefore = stat("cluster.one.upstream_rq_retry");
    for (int i = 0; i < 30; i++) {
      var r = get("/flaky/retry");
      if (r.statusCode() == 200) {
        ok++;
        // the backend fails 2 of 3: the answer is the third try's
        assertThat(r.body()).contains("attempt=3");
      }
    }
    assertThat(ok).isEqualTo(30);
    assertThat(stat("cluster.one.upstream_rq_retry") - retriesBefore).isEqualTo(60);
  }

  @Test
  void withoutARetryPolicyTheFailuresComeThrough() throws Exception {
    int ok = 0;
    for (int i = 0; i < 30; i++) {
      if (get("/flaky/none").statusCode() == 200) {
        ok++;
      }
    }
    assertThat(ok).isEqualTo(10);
  }

  @Test
  void retriableStatusCodesAnd4xxAreRetriedThenTheLastAnswerComesThrough() throws Exception {
    var r = get("/status/418");
    assertThat(r.statusCode()).isEqualTo(418);
    assertThat(r.body()).contains("attempt=3");
    var conflict = get("/status/409");
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(conflict.body()).contains("attempt=3");
    var other = get("/status/500");
    assertThat(other.statusCode()).isEqualTo(500);
    assertThat(other.body()).contains("attempt=1");
  }

  @Test
  void grpcStatusesAndRetriableHeadersAreRetried() throws Exception {
    assertThat(get("/grpc/14").body()).contains("attempt=3");
    assertThat(get("/grpc/1").body()).contains("attempt=3");
    assertThat(get("/grpc/13").body()).contains("attempt=1");
    assertThat(get("/grpc/0").body()).contains("attempt=1");
    assertThat(get("/header").body()).contains("attempt=2");
  }

  @Test
  void resetsAreRetriedThenAnswered503() throws Exception {
    int before = resets.get();
    var r = get("/reset");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).startsWith("upstream connect error or disconnect/reset before headers");
    assertThat(resets.get() - before).isEqualTo(3);
  }

  @Test
  void previousHostsSendsEachRetryToAHostNotTriedBefore() throws Exception {
    int before = bad1.requests.get() + bad2.requests.get();
    for (int i = 0; i < 40; i++) {
      var r = get("/hosts");
      // two bad hosts answer 503: with previous_hosts (50 re-picks) the three tries cover all three
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("backend=good");
    }
    assertThat(bad1.requests.get() + bad2.requests.get() - before).isLessThanOrEqualTo(80);
  }

  @Test
  void maxGrpcTimeoutTakesTheClientsGrpcTimeoutUpToItsCap() throws Exception {
    // the backend answers /slow after a second: a gRPC answer before that is the timeout's (504
    // upstream request timeout, which Envoy's gRPC local reply maps to 14 UNAVAILABLE)
    var own = grpc("/grpc-deadline", "200m");
    assertThat(own.statusCode()).isEqualTo(200);
    assertThat(own.headers().firstValue("grpc-status")).hasValue("14");
    assertThat(own.headers().firstValue("grpc-message")).hasValue("upstream request timeout");
    var capped = grpc("/grpc-capped", "10S");
    assertThat(capped.headers().firstValue("grpc-message")).hasValue("upstream request timeout");
    var capOnly = grpc("/grpc-capped", null);
    assertThat(capOnly.headers().firstValue("grpc-message")).hasValue("upstream request timeout");
    // neither a header nor a cap (and the route's own timeout is 0s): the backend's answer
    var waits = grpc("/grpc-deadline", null);
    assertThat(waits.headers().firstValue("grpc-status")).isEmpty();
    assertThat(waits.body()).startsWith("backend=one");
    // grpc-timeout on a request that is not gRPC means nothing
    var plain = get("/grpc-deadline", "grpc-timeout", "200m");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.body()).startsWith("backend=one");
  }

  static HttpResponse<String> grpc(String path, String grpcTimeout) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path))
            .timeout(Duration.ofSeconds(10))
            .header("content-type", "application/grpc")
            .POST(HttpRequest.BodyPublishers.noBody());
    if (grpcTimeout != null) {
      req.header("grpc-timeout", grpcTimeout);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void routeTimeoutAnswers504AndPerTryTimeoutRetries() throws Exception {
    var r = get("/slow");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    // the backend answers after a second: only the timeout can have answered this

    // every other request sleeps a second: the 0.3 s per-try timeout retries it on a fast one
    for (int i = 0; i < 2; i++) {
      var s = get("/slow-first");
      assertThat(s.statusCode()).isEqualTo(200);
    }
    // per-try timeout not covered by retry_on: 504 at once
    var p = get("/slow-pertry");
    assertThat(p.statusCode()).isEqualTo(504);
    assertThat(p.body()).isEqualTo("upstream request timeout");
  }

  @Test
  void routeIdleTimeoutAnswers408AndWeightedClustersAddTheirHeaders() throws Exception {
    var idle = get("/idle");
    assertThat(idle.statusCode()).isEqualTo(408);
    assertThat(idle.body()).isEqualTo("stream timeout");
    // the backend answers after a second: only the timeout can have answered this

    var wc = get("/wc");
    assertThat(wc.body()).contains("wc=one");
    assertThat(wc.headers().firstValue("x-wc-resp")).contains("one");
  }

  @Test
  void upstreamRqTimeoutHeaderOverridesTheRouteTimeout() throws Exception {
    // Envoy honours it from an internal request only (internal_address_config, one
    // x-forwarded-for address); an external one loses it (cleanInternalHeaders)
    var r = get("/long", "x-envoy-upstream-rq-timeout-ms", "150", "x-forwarded-for", "10.0.0.1");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(get("/long", "x-envoy-upstream-rq-timeout-ms", "150").statusCode()).isEqualTo(200);
    assertThat(get("/long").statusCode()).isEqualTo(200);
  }

  @Test
  void faultAbortsWithHttpAndGrpcStatusAndDelays() throws Exception {
    var a = get("/abort");
    assertThat(a.statusCode()).isEqualTo(503);
    assertThat(a.body()).isEqualTo("fault filter abort");

    var g = get("/grpc-abort", "content-type", "application/grpc");
    assertThat(g.statusCode()).isEqualTo(200);
    assertThat(g.headers().firstValue("grpc-status")).contains("8");

    long t0 = System.nanoTime();
    var d = get("/delay");
    assertThat(d.statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300));

    int aborted = 0;
    for (int i = 0; i < 400; i++) {
      if (get("/half").statusCode() == 500) {
        aborted++;
      }
    }
    assertThat(aborted).isBetween(150, 250);
    assertThat(get("/other").statusCode()).isEqualTo(200);
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(
        b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest.Builder at(String path) {
    return HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path));
  }

  @Test
  void corsPreflightIsAnsweredHereAndResponsesGetTheAllowHeaders() throws Exception {
    int before = one.requests.get();
    var pre =
        send(
            at("/cors/x")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("origin", "https://a.example")
                .header("access-control-request-method", "POST"));
    assertThat(pre.statusCode()).isEqualTo(200);
    assertThat(pre.headers().firstValue("access-control-allow-origin"))
        .contains("https://a.example");
    assertThat(pre.headers().firstValue("access-control-allow-methods")).contains("GET,POST");
    assertThat(pre.headers().firstValue("access-control-allow-headers")).contains("x-a");
    assertThat(pre.headers().firstValue("access-control-max-age")).contains("600");
    assertThat(pre.headers().firstValue("access-control-allow-credentials")).contains("true");
    assertThat(one.requests.get()).isEqualTo(before);

    var get = send(at("/cors/x").header("origin", "https://b.test"));
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("access-control-allow-origin")).contains("https://b.test");
    assertThat(get.headers().firstValue("access-control-expose-headers")).contains("x-b");
    assertThat(
            send(at("/cors/x").header("origin", "https://x.c.example"))
                .headers()
                .firstValue("access-control-allow-origin"))
        .contains("https://x.c.example");

    // a disallowed origin gets no CORS headers; its preflight goes upstream
    var evil =
        send(
            at("/cors/x")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST"));
    assertThat(evil.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(evil.body()).startsWith("backend=one");
  }

  @Test
  void localRateLimitLetsTheBucketThroughThenAnswers429() throws Exception {
    for (int i = 0; i < 3; i++) {
      var r = get("/limited");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-ratelimit-limit")).contains("3");
      assertThat(r.headers().firstValue("x-ratelimit-remaining")).contains(Integer.toString(2 - i));
    }
    for (int i = 0; i < 2; i++) {
      var r = get("/limited");
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).isEqualTo("local_rate_limited");
      assertThat(r.headers().firstValue("x-local-rate-limit")).contains("true");
      // an appending header: the filter sees the local reply's response headers exactly once
      assertThat(r.headers().allValues("x-rl-note")).containsExactly("once");
      assertThat(r.headers().firstValue("x-ratelimit-remaining")).contains("0");
    }
    // other routes are not limited
    assertThat(get("/other").statusCode()).isEqualTo(200);
    // Envoy's counters, under the config's stat_prefix
    String prefix = "http_local_rate_limiter.http_local_rate_limit.";
    assertThat(stat(prefix + "enabled")).isEqualTo(5);
    assertThat(stat(prefix + "ok")).isEqualTo(3);
    assertThat(stat(prefix + "rate_limited")).isEqualTo(2);
    assertThat(stat(prefix + "enforced")).isEqualTo(2);
  }

  @Test
  void redirectsAndRegexRewrites() throws Exception {
    long directBefore = stat("http.policies.rq_direct_response");
    var r = get("/redir/x/y?q=1");
    assertThat(r.statusCode()).isEqualTo(307);
    assertThat(r.headers().firstValue("location")).contains("https://new.example:8443/new/x/y?q=1");
    // Envoy's router counts a redirect as the direct response entry it is
    assertThat(stat("http.policies.rq_direct_response") - directBefore).isEqualTo(1);
    assertThat(get("/rx/abc/end?z=1").body()).contains("uri=/got/abc?z=1");
  }

  @Test
  void mirrorsGoToTheShadowHostAndTheirAnswerIsDropped() throws Exception {
    int before = bad1.requests.get();
    for (int i = 0; i < 5; i++) {
      var r = get("/mirror");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).startsWith("backend=one");
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> bad1.requests.get() - before == 5);
    // Envoy puts the suffix on the host, before the port
    assertThat(bad1.lastHost).isEqualTo(IP + "-shadow:" + httpPort);
    // the original carries its try's timeout; the shadow, sent by Envoy's async client with the
    // route's timeout, that one, once
    assertThat(one.lastTimeouts).containsExactly("2000");
    assertThat(bad1.lastTimeouts).containsExactly("7000");
    // a body is mirrored whole
    var post = send(at("/mirror").POST(HttpRequest.BodyPublishers.ofString("x".repeat(5000))));
    assertThat(post.statusCode()).isEqualTo(200);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(bad1.lastBody).hasSize(5000));
    // with a body too (the head is copied before the request ends)
    assertThat(bad1.lastTimeouts).containsExactly("7000");
  }

  @Test
  void anUnknownRetryConditionIsRefusedNamingTheField() {
    var bad =
        bootstrap()
            .replace("{retry_on: reset, num_retries: 2}", "{retry_on: sometimes, num_retries: 2}")
            .replace("port_value: " + httpPort, "port_value: 0")
            .replace("port_value: " + adminPort, "port_value: 0");
    var bs = new BootstrapLoader().parse("bad.yaml", bad);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Proxy.start(bs, ProxyOptions.defaults().withWorkers(1)).close())
        .hasMessageContaining("retry_policy.retry_on")
        .hasMessageContaining("unknown retry condition 'sometimes'");
  }
}
