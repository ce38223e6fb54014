package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy's jwt_authn counters ({@code http.<prefix>.jwt_authn.*} on {@code /stats}, {@code
 * envoy_http_jwt_authn_*} on {@code /stats/prometheus}) and {@code jwt_cache_config} (verified
 * tokens kept per worker, least recently used out, time still checked on every hit), over real
 * sockets with a real JWKS server.
 */
class JwtAuthnStatsProxyTest {
  static final String IP = "127.0.33.21";
  static final String JWKS_IP = "127.0.33.22";
  static final String BACKEND_IP = "127.0.33.23";
  static final String ISS = "https://cached.example";
  static final String ISS_REMOTE = "https://remote.example";
  static final String ISS_BROKEN = "https://broken.example";
  static ECKey key;
  static ECKey remoteKey;
  static ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  static HttpServer jwks;
  static HttpServer backend;
  static Proxy proxy;
  static int port;
  static int adminPort;
  static final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeAll
  static void start() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    remoteKey = new ECKeyGenerator(Curve.P_256).keyID("r1").generate();
    jwks = HttpServer.create(new InetSocketAddress(JWKS_IP, 0), 16);
    jwks.setExecutor(executor);
    jwks.createContext(
        "/jwks",
        ex -> {
          byte[] b =
              new JWKSet(remoteKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    jwks.createContext(
        "/broken",
        ex -> {
          ex.sendResponseHeaders(500, -1);
          ex.close();
        });
    jwks.start();
    backend = HttpServer.create(new InetSocketAddress(BACKEND_IP, 0), 16);
    backend.setExecutor(executor);
    backend.createContext(
        "/",
        ex -> {
          byte[] b = "ok".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    backend.start();
    port = Ports.free(IP);
    adminPort = Ports.free(IP);
    int jwksPort = jwks.getAddress().getPort();
    String yaml =
        """
        node: {id: jwt-stats, cluster: test}
        admin: {address: {socket_address: {address: %1$s, port_value: %2$d}}}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: jwt_stats
                  http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      bypass_cors_preflight: true
                      providers:
                        cached:
                          issuer: %4$s
                          audiences: [weather]
                          clock_skew_seconds: 1
                          local_jwks: {inline_string: "%5$s"}
                          jwt_cache_config: {jwt_cache_size: 2}
                        remote:
                          issuer: %6$s
                          remote_jwks:
                            http_uri: {uri: "http://jwks.example:%7$d/jwks", cluster: jwks, timeout: 5s}
                        broken:
                          issuer: %8$s
                          remote_jwks:
                            http_uri: {uri: "http://jwks.example:%7$d/broken", cluster: jwks, timeout: 5s}
                      rules:
                      - match: {prefix: /public}
                      - match: {prefix: /remote}
                        requires: {provider_name: remote}
                      - match: {prefix: /broken}
                        requires: {provider_name: broken}
                      - match: {prefix: /}
                        requires: {provider_name: cached}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend}}]
          clusters:
          - name: backend
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %9$s, port_value: %10$d}}}}]}]
          - name: jwks
            type: STATIC
            load_assignment:
              cluster_name: jwks
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %11$s, port_value: %7$d}}}}]}]
        """
            .formatted(
                IP,
                adminPort,
                port,
                ISS,
                new JWKSet(key.toPublicJWK()).toString().replace("\"", "\\\""),
                ISS_REMOTE,
                jwksPort,
                ISS_BROKEN,
                BACKEND_IP,
                backend.getAddress().getPort(),
                JWKS_IP);
    // one worker: the per-worker token cache is the one every request sees
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("jwt-stats.yaml", yaml),
            ProxyOptions.defaults().withWorkers(1));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    jwks.stop(0);
    backend.stop(0);
    executor.close();
  }

  static String token(ECKey k, String iss, String subject, Instant exp) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(k.getKeyID())
                .type(JOSEObjectType.JWT)
                .build(),
            new JWTClaimsSet.Builder()
                .issuer(iss)
                .subject(subject)
                .audience("weather")
                .expirationTime(Date.from(exp))
                .build());
    jwt.sign(new ECDSASigner(k));
    return jwt.serialize();
  }

  static String token(String subject) throws Exception {
    return token(key, ISS, subject, Instant.now().plusSeconds(600));
  }

  static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static int bearer(String path, String token) throws Exception {
    return send("GET", path, "authorization", "Bearer " + token).statusCode();
  }

  static long stat(String name) {
    return proxy.stats().all().stream()
        .filter(c -> c.name().equals("http.jwt_stats.jwt_authn." + name))
        .mapToLong(c -> c.value())
        .sum();
  }

  static String admin(String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://" + IP + ":" + adminPort + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void allowedDeniedAndCorsPreflightsAreCountedAndShownAsEnvoyNamesThem() throws Exception {
    long allowed = stat("allowed");
    long denied = stat("denied");
    long cors = stat("cors_preflight_bypassed");
    assertThat(send("GET", "/public/x").statusCode()).isEqualTo(200); // no requirement: allowed
    assertThat(
            send(
                    "OPTIONS",
                    "/secret",
                    "origin",
                    "http://app.example",
                    "access-control-request-method",
                    "GET")
                .statusCode())
        .isEqualTo(200);
    assertThat(send("GET", "/secret").statusCode()).isEqualTo(401);
    assertThat(bearer("/secret", token("alice"))).isEqualTo(200);
    assertThat(stat("allowed")).isEqualTo(allowed + 3); // public, preflight, valid token
    assertThat(stat("denied")).isEqualTo(denied + 1);
    assertThat(stat("cors_preflight_bypassed")).isEqualTo(cors + 1);

    assertThat(admin("/stats"))
        .containsPattern("http\\.jwt_stats\\.jwt_authn\\.allowed: [1-9]")
        .containsPattern("http\\.jwt_stats\\.jwt_authn\\.denied: [1-9]")
        .contains("http.jwt_stats.jwt_authn.cors_preflight_bypassed: ");
    assertThat(admin("/stats/prometheus"))
        .containsPattern(
            "envoy_http_jwt_authn_allowed\\{envoy_http_conn_manager_prefix=\"jwt_stats\"\\} [1-9]")
        .containsPattern(
            "envoy_http_jwt_authn_denied\\{envoy_http_conn_manager_prefix=\"jwt_stats\"\\} [1-9]");
  }

  @Test
  void jwksFetchesAreCountedBySuccessAndFailure() throws Exception {
    long ok = stat("jwks_fetch_success");
    long failed = stat("jwks_fetch_failed");
    String remote = token(remoteKey, ISS_REMOTE, "bob", Instant.now().plusSeconds(600));
    assertThat(bearer("/remote", remote)).isEqualTo(200);
    assertThat(stat("jwks_fetch_success")).isEqualTo(ok + 1);

    String broken = token(remoteKey, ISS_BROKEN, "eve", Instant.now().plusSeconds(600));
    assertThat(bearer("/broken", broken)).isEqualTo(401);
    assertThat(stat("jwks_fetch_failed")).isGreaterThanOrEqualTo(failed + 1);
    assertThat(admin("/stats/prometheus"))
        .containsPattern(
            "envoy_http_jwt_authn_jwks_fetch_success\\{envoy_http_conn_manager_prefix=\"jwt_stats\"\\} [1-9]")
        .containsPattern(
            "envoy_http_jwt_authn_jwks_fetch_failed\\{envoy_http_conn_manager_prefix=\"jwt_stats\"\\} [1-9]");
  }

  @Test
  void verifiedTokensAreCachedLeastRecentlyUsedOut() throws Exception {
    String a = token("cache-a");
    String b = token("cache-b");
    String c = token("cache-c");
    long hit = stat("jwt_cache_hit");
    long miss = stat("jwt_cache_miss");
    assertThat(bearer("/cache", a)).isEqualTo(200);
    assertThat(bearer("/cache", a)).isEqualTo(200);
    assertThat(stat("jwt_cache_miss")).isEqualTo(miss + 1);
    assertThat(stat("jwt_cache_hit")).isEqualTo(hit + 1);

    // size 2: b and c push a out
    assertThat(bearer("/cache", b)).isEqualTo(200);
    assertThat(bearer("/cache", c)).isEqualTo(200);
    assertThat(bearer("/cache", a)).isEqualTo(200);
    assertThat(stat("jwt_cache_miss")).isEqualTo(miss + 4);
    assertThat(stat("jwt_cache_hit")).isEqualTo(hit + 1);
    assertThat(bearer("/cache", a)).isEqualTo(200);
    assertThat(stat("jwt_cache_hit")).isEqualTo(hit + 2);

    // a forged token never enters: its signature fails every time
    String forged = a.substring(0, a.lastIndexOf('.') + 1) + b.substring(b.lastIndexOf('.') + 1);
    assertThat(bearer("/cache", forged)).isEqualTo(401);
    assertThat(bearer("/cache", forged)).isEqualTo(401);
    assertThat(stat("jwt_cache_hit")).isEqualTo(hit + 2);
  }

  @Test
  void aCachedTokenStillExpires() throws Exception {
    String shortLived = token(key, ISS, "brief", Instant.now().plusSeconds(1));
    assertThat(bearer("/expiry", shortLived)).isEqualTo(200);
    long hit = stat("jwt_cache_hit");
    // exp + clock_skew_seconds (1 s) pass: the cached token is refused as expired
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> bearer("/expiry", shortLived) == 401);
    assertThat(stat("jwt_cache_hit")).isGreaterThan(hit);
    var r = send("GET", "/expiry", "authorization", "Bearer " + shortLived);
    assertThat(r.body()).isEqualTo("Jwt is expired");
  }
}
