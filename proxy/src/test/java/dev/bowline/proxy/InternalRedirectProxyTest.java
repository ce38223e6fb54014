package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A route's {@code internal_redirect_policy} over real sockets: an upstream answering 302 (or
 * another configured code) with an absolute Location is followed by the proxy itself, the route
 * table matched again with the Location's authority and path; what Envoy does not follow (a
 * relative Location, another scheme, a code not configured, one redirect too many, a request with a
 * body, a route the predicates refuse) goes to the client as it came. The redirecting backend and
 * the target backend are two servers, so the target's answer shows which route served it.
 */
class InternalRedirectProxyTest {
  static final String IP = "127.0.7.150";
  static final String ORIGIN_IP = "127.0.7.151";
  static final String TARGET_IP = "127.0.7.152";
  static HttpServer origin;
  static HttpServer target;
  static ExecutorService executor;
  static SocketProxy proxy;

  @BeforeAll
  static void start() throws IOException {
    executor = Executors.newVirtualThreadPerTaskExecutor();
    origin = HttpServer.create(new InetSocketAddress(ORIGIN_IP, 0), 64);
    origin.setExecutor(executor);
    origin.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          String p = ex.getRequestURI().toString();
          String location =
              switch (p.substring(p.lastIndexOf('/') + 1).replaceAll("\\?.*", "")) {
                case "abs" -> "http://target.example/landed?from=abs#frag";
                case "rel" -> "/landed";
                case "tls" -> "https://target.example/landed";
                case "hop1" -> "http://front.example" + p.substring(0, p.indexOf('/', 1)) + "/hop2";
                case "hop2" -> "http://target.example/landed?from=hop2";
                case "nowhere" -> "http://unknown.example/landed";
                case "refused" -> "http://target.example/other";
                default -> "http://target.example/landed?from=" + p;
              };
          int code = p.contains("/c303/") ? 303 : p.contains("/c307/") ? 307 : 302;
          ex.getResponseHeaders().set("Location", location);
          ex.getResponseHeaders().set("x-copy", "from-redirect");
          byte[] b = "redirect body".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(code, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    origin.start();
    target = HttpServer.create(new InetSocketAddress(TARGET_IP, 0), 64);
    target.setExecutor(executor);
    target.createContext(
        "/",
        ex -> {
          ex.getRequestBody().readAllBytes();
          var h = ex.getRequestHeaders();
          String out =
              "target uri="
                  + ex.getRequestURI()
                  + " host="
                  + h.getFirst("Host")
                  + " method="
                  + ex.getRequestMethod()
                  + " original="
                  + h.getFirst("x-envoy-original-url")
                  + " copy="
                  + h.getFirst("x-copy");
          byte[] b = out.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    target.start();
    proxy =
        SocketProxy.on(IP)
            .httpRouteConfig(
                "l",
                "",
                """
                name: t
                virtual_hosts:
                - name: target
                  domains: ["target.example"]
                  routes:
                  - {name: landed, match: {prefix: /landed}, route: {cluster: target}}
                  - {name: other, match: {prefix: /other}, route: {cluster: target}}
                - name: front
                  domains: ["front.example"]
                  routes:
                  - match: {prefix: /r/}
                    route:
                      cluster: origin
                      internal_redirect_policy:
                        redirect_response_codes: [302, 303]
                        response_headers_to_copy: [x-copy]
                  - match: {prefix: /two/}
                    route:
                      cluster: origin
                      internal_redirect_policy: {max_internal_redirects: 2}
                  - match: {prefix: /cross/}
                    route:
                      cluster: origin
                      internal_redirect_policy: {allow_cross_scheme_redirect: true}
                  - match: {prefix: /listed/}
                    route:
                      cluster: origin
                      internal_redirect_policy:
                        predicates:
                        - name: allow
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig
                            allowed_route_names: [landed]
                  - match: {prefix: /plain/}
                    route: {cluster: origin}
                """)
            .cluster("origin", ORIGIN_IP, origin.getAddress().getPort())
            .cluster("target", TARGET_IP, target.getAddress().getPort())
            .start();
  }

  @AfterAll
  static void stop() {
    proxy.close();
    origin.stop(0);
    target.stop(0);
    executor.shutdownNow();
  }

  /** One HTTP/1.1 request for front.example on its own connection; {@code body} null: none. */
  static SocketProxy.Reply send(String method, String path, String body, String... headers)
      throws IOException {
    return SocketProxy.send(IP, proxy.port("l"), method, path, "front.example", body, headers);
  }

  static SocketProxy.Reply get(String path) throws IOException {
    return send("GET", path, null);
  }

  static long counter(String name) {
    for (String line : proxy.proxy.stats().text().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  @Test
  void aRedirectToAnAbsoluteLocationIsFollowedUnderTheRouteItMatches() throws Exception {
    long ok = counter("cluster.origin.upstream_internal_redirect_succeeded_total");
    SocketProxy.Reply r = get("/r/abs?q=1");
    assertThat(r.status()).isEqualTo(200);
    // the target's route served it: new Host and path (fragment dropped), the URL before in
    // x-envoy-original-url, the redirect's x-copy copied onto the request
    assertThat(r.body())
        .isEqualTo(
            "target uri=/landed?from=abs host=target.example method=GET"
                + " original=http://front.example/r/abs?q=1 copy=from-redirect");
    assertThat(counter("cluster.origin.upstream_internal_redirect_succeeded_total"))
        .isEqualTo(ok + 1);
  }

  @Test
  void a303TurnsAPostWithoutBodyIntoAGet() throws Exception {
    SocketProxy.Reply r = send("POST", "/r/c303/x", "");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("method=GET", "original=http://front.example/r/c303/x");
  }

  @Test
  void whatEnvoyDoesNotFollowGoesToTheClientAsItCame() throws Exception {
    long failed = counter("cluster.origin.upstream_internal_redirect_failed_total");
    // a relative Location
    SocketProxy.Reply r = get("/r/rel");
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers()).containsEntry("location", "/landed");
    assertThat(r.body()).isEqualTo("redirect body");
    // another scheme, without allow_cross_scheme_redirect
    r = get("/r/tls");
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers()).containsEntry("location", "https://target.example/landed");
    // an authority no virtual host takes
    assertThat(get("/r/nowhere").status()).isEqualTo(302);
    // a request with a body (Envoy buffers it; this proxy does not keep it for a redirect)
    r = send("POST", "/r/abs", "payload");
    assertThat(r.status()).isEqualTo(302);
    // a second redirect past max_internal_redirects (1 by default): the second 302 comes back
    r = get("/r/hop1");
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers()).containsEntry("location", "http://target.example/landed?from=hop2");
    assertThat(counter("cluster.origin.upstream_internal_redirect_failed_total"))
        .isEqualTo(failed + 5);
    // a code the policy does not list is not a redirect it handles: nothing counted
    r = get("/r/c307/x");
    assertThat(r.status()).isEqualTo(307);
    assertThat(counter("cluster.origin.upstream_internal_redirect_failed_total"))
        .isEqualTo(failed + 5);
    // a route without a policy passes its redirects on
    assertThat(get("/plain/abs").status()).isEqualTo(302);
  }

  @Test
  void maxInternalRedirectsAllowsAChain() throws Exception {
    SocketProxy.Reply r = get("/two/hop1");
    assertThat(r.status()).isEqualTo(200);
    // two followed (the count is the stream's, the limit the route's that got the redirect), and
    // x-envoy-original-url is the URL before the last one
    assertThat(r.body())
        .contains("uri=/landed?from=hop2", "original=http://front.example/two/hop2");
  }

  @Test
  void allowCrossSchemeRedirectFollowsAnHttpsLocation() throws Exception {
    SocketProxy.Reply r = get("/cross/tls");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("uri=/landed", "original=http://front.example/cross/tls");
  }

  @Test
  void theAllowListedRoutesPredicateRefusesOtherRoutes() throws Exception {
    assertThat(get("/listed/abs").status()).isEqualTo(200);
    SocketProxy.Reply r = get("/listed/refused");
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers()).containsEntry("location", "http://target.example/other");
  }
}
