package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The proxy from a static bootstrap, driven over real sockets by the JDK HTTP client. */
class StaticProxyTest {
  static final String IP = "127.0.6.1";
  static Backend a;
  static Backend b;
  static Backend c;
  static Proxy proxy;
  static int httpPort;
  static int tcpPort;
  static int adminPort;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  static String bootstrap() {
    return """
        node: {id: static-test, cluster: test}
        admin:
          address: {socket_address: {address: %1$s, port_value: %6$d}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  use_remote_address: true
                  http_filters:
                  - name: some.optional.filter
                    is_optional: true
                    typed_config: {"@type": type.googleapis.com/google.protobuf.Empty}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: api
                      domains: [api.example.com, "api.example.com:*"]
                      routes:
                      - match: {prefix: /v1/}
                        route: {cluster: a, prefix_rewrite: /}
                      - match: {path: /direct}
                        direct_response: {status: 201, body: {inline_string: made here}}
                      - match:
                          prefix: /
                          headers: [{name: x-canary, string_match: {exact: "1"}}]
                        route: {cluster: b}
                      - match:
                          prefix: /q
                          query_parameters: [{name: env, string_match: {exact: b}}]
                        route: {cluster: b}
                      - match: {safe_regex: {regex: "/items/[0-9]+"}}
                        route: {cluster: b}
                      - match: {prefix: /slow}
                        route: {cluster: a, timeout: 0.2s}
                      - match: {prefix: /weighted}
                        route:
                          weighted_clusters:
                            clusters: [{name: a, weight: 1}, {name: b, weight: 1}]
                      - match: {prefix: /lb}
                        route: {cluster: both}
                      - match: {prefix: /mutate}
                        route: {cluster: a}
                        request_headers_to_add:
                        - header: {key: x-request-id, value: fixed}
                          append_action: OVERWRITE_IF_EXISTS_OR_ADD
                        response_headers_to_add: [{header: {key: x-route, value: mutate}}]
                        response_headers_to_remove: [x-backend]
                      - match: {prefix: /retry}
                        route:
                          cluster: flaky
                          retry_policy: {retry_on: "connect-failure,refused-stream", num_retries: 2}
                      - match: {prefix: /noretry}
                        route: {cluster: flaky}
                      - match: {prefix: /by-header}
                        route: {cluster_header: x-cluster}
                      - match: {prefix: /dns}
                        route: {cluster: by-name}
                      - match: {prefix: /missing}
                        route: {cluster: nope}
                      - match: {prefix: /passthrough}
                        route: {cluster: PassthroughCluster}
                      - match: {prefix: /odst-a}
                        route: {cluster: by-original-dst}
                        request_headers_to_add: [{header: {key: x-envoy-original-dst-host, value: "%4$s:%5$d"}}]
                      - match: {prefix: /odst-b}
                        route: {cluster: by-original-dst}
                        request_headers_to_add: [{header: {key: x-envoy-original-dst-host, value: "%7$s:%8$d"}}]
                      - match: {prefix: /odst-name}
                        route: {cluster: by-original-dst}
                        request_headers_to_add: [{header: {key: x-envoy-original-dst-host, value: "localhost:%5$d"}}]
                      - match: {prefix: /odst}
                        route: {cluster: by-original-dst}
                      - match: {prefix: /}
                        route: {cluster: a}
                    - name: wild
                      domains: ["*.wild.test"]
                      routes:
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: wild}}
                    - name: fallback
                      domains: ["*"]
                      routes:
                      - match: {prefix: /known}
                        direct_response: {status: 200, body: {inline_string: fallback}}
          - name: tcp
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: b
          clusters:
          - name: a
            connect_timeout: 1s
            type: STATIC
            load_assignment:
              cluster_name: a
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %4$s, port_value: %5$d}}}}]}]
          - name: b
            type: STATIC
            load_assignment:
              cluster_name: b
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %7$s, port_value: %8$d}}}}]}]
          - name: by-name
            type: LOGICAL_DNS
            dns_lookup_family: V4_ONLY # localhost may also be ::1, which Envoy's default AUTO would take
            dns_refresh_rate: 1s
            load_assignment:
              cluster_name: by-name
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: localhost, port_value: %9$d}}}}]}]
          - name: flaky
            type: STATIC
            load_assignment:
              cluster_name: flaky
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.6.4, port_value: %10$d}}}
                - endpoint: {address: {socket_address: {address: %4$s, port_value: %5$d}}}
          - name: PassthroughCluster
            type: ORIGINAL_DST
            lb_policy: CLUSTER_PROVIDED
            connect_timeout: 1s
          - name: by-original-dst
            type: ORIGINAL_DST
            lb_policy: CLUSTER_PROVIDED
            original_dst_lb_config: {use_http_header: true}
          - name: both
            type: STATIC
            lb_policy: LEAST_REQUEST
            load_assignment:
              cluster_name: both
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: %4$s, port_value: %5$d}}}
                - endpoint: {address: {socket_address: {address: %7$s, port_value: %8$d}}}
        """
        .formatted(
            IP,
            httpPort,
            tcpPort,
            a.ip(),
            a.port(),
            adminPort,
            b.ip(),
            b.port(),
            c.port(),
            Ports.free("127.0.6.4"));
  }

  @BeforeAll
  static void start() {
    a = new Backend("a", "127.0.6.2");
    b = new Backend("b", "127.0.6.3");
    c = new Backend("c", "127.0.0.1");
    httpPort = Ports.free(IP);
    tcpPort = Ports.free(IP);
    adminPort = Ports.free(IP);
    var bs = new BootstrapLoader().parse("test.yaml", bootstrap());
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(2));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    a.close();
    b.close();
    c.close();
  }

  static HttpResponse<String> get(String host, String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + path))
            .header("Host", host)
            .timeout(Duration.ofSeconds(5));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void routesByPrefixWithRewriteAndAddsForwardingHeaders() throws Exception {
    var r = get("api.example.com", "/v1/things?x=1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .startsWith("backend=a path=/things?x=1 host=api.example.com xff=127.0.0.1 rid=");
    assertThat(r.body())
        .matches(
            ".* rid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} timeout=15000 proto=http xfcc=null");
    assertThat(r.headers().firstValue("server")).contains("envoy");
  }

  @Test
  void replacesAnEdgeRequestsIdAndAppendsToForwardedFor() throws Exception {
    var r =
        get(
            "api.example.com",
            "/",
            "x-request-id",
            "abc",
            "x-forwarded-for",
            "10.1.1.1",
            "x-envoy-expected-rq-timeout-ms",
            "1");
    // an edge client's x-envoy-* header is dropped; the proxy sets its own
    // Envoy: with use_remote_address, a request that came through x-forwarded-for is external
    // (an edge request), and its own x-request-id is not trusted: a new one replaces it
    // (preserve_external_request_id keeps it: LocalReplyProxyTest)
    assertThat(r.body())
        .matches(
            "backend=a path=/ host=api.example.com xff=10\\.1\\.1\\.1,127\\.0\\.0\\.1"
                + " rid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
                + " timeout=15000 .*");
    assertThat(r.headers().firstValue("x-envoy-upstream-service-time")).isPresent();
  }

  @Test
  void matchesOnPathHeadersQueryAndRegex() throws Exception {
    assertThat(get("api.example.com", "/direct").statusCode()).isEqualTo(201);
    assertThat(get("api.example.com", "/direct").body()).isEqualTo("made here");
    assertThat(get("api.example.com", "/x", "x-canary", "1").body()).startsWith("backend=b");
    assertThat(get("api.example.com", "/x", "x-canary", "2").body()).startsWith("backend=a");
    assertThat(get("api.example.com", "/q?env=b").body()).startsWith("backend=b");
    assertThat(get("api.example.com", "/q?env=a").body()).startsWith("backend=a");
    assertThat(get("api.example.com", "/items/42").body()).startsWith("backend=b");
    assertThat(get("api.example.com", "/items/4x").body()).startsWith("backend=a");
  }

  @Test
  void picksVirtualHostsByAuthorityIncludingWildcardsAndPort() throws Exception {
    assertThat(get("api.example.com:" + httpPort, "/").body()).startsWith("backend=a");
    assertThat(get("shop.wild.test", "/").body()).isEqualTo("wild");
    assertThat(get("wild.test", "/known").body()).isEqualTo("fallback");
    var none = get("other.test", "/unknown");
    assertThat(none.statusCode()).isEqualTo(404);
  }

  @Test
  void unknownClusterIs503AndRouteTimeoutIs504() throws Exception {
    assertThat(get("api.example.com", "/missing").statusCode()).isEqualTo(503);
    // ORIGINAL_DST without an original destination (nothing redirected the connection): Envoy's
    // answer, not a dropped request.
    var passthrough = get("api.example.com", "/passthrough");
    assertThat(passthrough.statusCode()).isEqualTo(503);
    assertThat(passthrough.body()).isEqualTo("no healthy upstream");
    var slow = get("api.example.com", "/slow");
    assertThat(slow.statusCode()).isEqualTo(504);
    assertThat(slow.body()).isEqualTo("upstream request timeout");
  }

  @Test
  void weightedClustersAndLeastRequestSpreadRequests() throws Exception {
    Map<String, Integer> weighted = new HashMap<>();
    Map<String, Integer> lb = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      weighted.merge(
          get("api.example.com", "/weighted").headers().firstValue("x-backend").orElseThrow(),
          1,
          Integer::sum);
      lb.merge(
          get("api.example.com", "/lb").headers().firstValue("x-backend").orElseThrow(),
          1,
          Integer::sum);
    }
    assertThat(weighted.keySet()).containsExactlyInAnyOrder("a", "b");
    assertThat(lb.keySet()).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void forwardsChunkedBodiesBothWays() throws Exception {
    String big = "x".repeat(200_000);
    var r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + httpPort + "/echo"))
                .header("Host", "api.example.com")
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () ->
                            new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(big);
    var chunked = get("api.example.com", "/chunked");
    assertThat(chunked.body()).startsWith("backend=a path=/chunked");
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
    try (Socket s = new Socket(IP, httpPort)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET /first HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
                  + "GET /direct HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
                  + "GET /v1/last HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      int first = all.indexOf("path=/first");
      int second = all.indexOf("made here");
      int third = all.indexOf("path=/last");
      assertThat(first).isPositive();
      assertThat(second).isGreaterThan(first);
      assertThat(third).isGreaterThan(second);
    }
  }

  @Test
  void tcpProxyRelaysBytes() throws Exception {
    try (Socket s = new Socket(IP, tcpPort)) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              "GET /via-tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(all).startsWith("HTTP/1.1 200").contains("backend=b path=/via-tcp");
    }
  }

  @Test
  void adminShowsReadinessListenersClustersAndStats() throws Exception {
    String base = "http://" + IP + ":" + adminPort;
    get("api.example.com", "/v1/count-me");
    var ready =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("LIVE\n");
    var listeners =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/listeners")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(listeners.body())
        .contains("http::" + IP + ":" + httpPort, "tcp::" + IP + ":" + tcpPort);
    var clusters =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/clusters")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(clusters.body())
        .contains(
            "a::" + a.ip() + ":" + a.port() + "::health_flags::healthy", "a::added_via_api::false");
    var stats =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/stats")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(stats.body()).containsPattern("cluster\\.a\\.upstream_rq_total: [1-9]");
    assertThat(stats.body()).containsPattern("http\\.ingress\\.downstream_rq_2xx: [1-9]");
    assertThat(stats.body())
        .containsPattern(
            "listener\\."
                + IP.replace(".", "\\.")
                + "_"
                + httpPort
                + "\\.downstream_cx_total: [1-9]");
    var prom =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/stats/prometheus")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(prom.body())
        .containsPattern("envoy_cluster_upstream_rq_total\\{envoy_cluster_name=\"a\"\\} [1-9]");
    var dump =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/config_dump")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(dump.body())
        .contains("\"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\"")
        .contains("\"static_clusters\"")
        .contains("\"static_listeners\"");
  }

  @Test
  void expect100ContinueIsAnsweredByTheProxy() throws Exception {
    try (Socket s = new Socket(IP, httpPort)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /echo HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 5\r\n"
                  + "Expect: 100-continue\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] interim = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertThat(new String(interim, StandardCharsets.US_ASCII))
          .isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      String rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(rest).startsWith("HTTP/1.1 200 OK").endsWith("hello");
    }
  }

  @Test
  void dnsClustersResolveOffTheEventLoops() throws Exception {
    assertThat(get("api.example.com", "/dns").body()).startsWith("backend=c path=/dns");
  }

  @Test
  void routesAddAndRemoveHeadersOnBothWays() throws Exception {
    var r = get("api.example.com", "/mutate", "x-request-id", "from-client");
    assertThat(r.body()).contains("rid=fixed");
    assertThat(r.headers().firstValue("x-route")).contains("mutate");
    assertThat(r.headers().firstValue("x-backend")).isEmpty();
  }

  @Test
  void connectFailuresAreRetriedOnAnotherHostWhenTheRouteSaysSo() throws Exception {
    int failedWithout = 0;
    for (int i = 0; i < 10; i++) {
      assertThat(get("api.example.com", "/retry").statusCode()).isEqualTo(200);
      if (get("api.example.com", "/noretry").statusCode() == 503) {
        failedWithout++;
      }
    }
    assertThat(failedWithout).isPositive();
    assertThat(proxy.stats().cluster("flaky").upstreamRqRetry().value()).isPositive();
  }

  @Test
  void originalDstWithUseHttpHeaderGoesWhereTheHeaderSays() throws Exception {
    // The routes set x-envoy-original-dst-host (an edge client's own x-envoy-* headers are
    // stripped, as Envoy does, so a client cannot pick the destination).
    for (int i = 0; i < 3; i++) {
      assertThat(get("api.example.com", "/odst-a").body()).startsWith("backend=a");
      assertThat(get("api.example.com", "/odst-b").body()).startsWith("backend=b");
    }
    var noHeader =
        get("api.example.com", "/odst", "x-envoy-original-dst-host", a.ip() + ":" + a.port());
    var byName = get("api.example.com", "/odst-name");
    for (var r : List.of(noHeader, byName)) {
      assertThat(r.statusCode()).as(r.uri().toString()).isEqualTo(503);
      assertThat(r.body()).as(r.uri().toString()).isEqualTo("no healthy upstream");
    }
  }

  @Test
  void clusterHeaderPicksTheClusterPerRequest() throws Exception {
    assertThat(get("api.example.com", "/by-header", "x-cluster", "b").body())
        .startsWith("backend=b");
    assertThat(get("api.example.com", "/by-header", "x-cluster", "a").body())
        .startsWith("backend=a");
    assertThat(get("api.example.com", "/by-header").statusCode()).isEqualTo(503);
  }
}
