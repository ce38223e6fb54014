package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jwt_authn and istio_authn in a real proxy over real sockets, configured as istiod 1.16 emits
 * them: keys and tokens made here with Nimbus; an inline-JWKS provider (ES256) and a remote one
 * (RSA, served by a local HTTP server and fetched through the proxy's own cluster, cached 1 s).
 */
class JwtAuthnProxyTest {
  static final String IP = "127.0.7.41";
  static final String ISS_LOCAL = "https://local.example";
  static final String ISS_REMOTE = "https://remote.example";
  static ECKey ec;
  static ECKey ecOther;
  static RSAKey rsa;
  static RSAKey rsaNext;
  static final AtomicReference<String> served = new AtomicReference<>();
  static final AtomicInteger fetches = new AtomicInteger();
  static HttpServer jwks;
  static HttpServer backend;
  static Proxy proxy;
  static int port;
  static int tlsPort;
  static TestPki pki;
  static TestPki.Issued clientCert;
  static @TempDir Path dir;
  static Path accessLog;
  static final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    ecOther = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    rsaNext = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    served.set(new JWKSet(rsa.toPublicJWK()).toString());
    jwks = HttpServer.create(new InetSocketAddress("127.0.7.42", 0), 16);
    jwks.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    jwks.createContext(
        "/jwks",
        ex -> {
          fetches.incrementAndGet();
          byte[] b = served.get().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("content-type", "application/json");
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    jwks.start();
    backend = HttpServer.create(new InetSocketAddress("127.0.7.43", 0), 16);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext(
        "/",
        ex -> {
          Map<String, String> seen = new TreeMap<>();
          ex.getRequestHeaders().forEach((k, v) -> seen.put(k.toLowerCase(), v.getFirst()));
          StringBuilder sb = new StringBuilder();
          seen.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
          byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    backend.start();
    port = Ports.free(IP);
    tlsPort = Ports.free(IP);
    pki = new TestPki("jwt-root");
    TestPki.Issued serverCert = pki.issue("spiffe://cluster.local/ns/weather/sa/forecast");
    clientCert = pki.issue("spiffe://cluster.local/ns/shop/sa/frontend");
    accessLog = dir.resolve("access.log");
    String local = new JWKSet(ec.toPublicJWK()).toString().replace("\"", "\\\"");
    String yaml =
        """
        node: {id: jwt-test, cluster: test}
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: %1$s, port_value: %2$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: jwt
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %7$s
                      format: "%%RESPONSE_CODE%% %%DYNAMIC_METADATA(istio_authn:request.auth.principal)%% %%DYNAMIC_METADATA(istio_authn:request.auth.audiences)%% %%DYNAMIC_METADATA(istio_authn:request.auth.claims:groups)%%\\n"
                  http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      bypass_cors_preflight: true
                      providers:
                        origins-0:
                          issuer: %3$s
                          audiences: [weather]
                          payload_in_metadata: %3$s
                          forward_payload_header: x-jwt-payload
                          claim_to_headers: [{header_name: x-jwt-sub, claim_name: sub}, {header_name: x-jwt-groups, claim_name: groups}]
                          local_jwks: {inline_string: "%4$s"}
                        origins-1:
                          issuer: %5$s
                          payload_in_metadata: %5$s
                          forward: true
                          from_headers: [{name: x-token}]
                          from_params: [token]
                          remote_jwks:
                            http_uri: {uri: "http://jwks.example:%6$d/jwks", cluster: "outbound|%6$d||jwks.example", timeout: 5s}
                            cache_duration: 1s
                      rules:
                      - match: {prefix: /}
                        requires:
                          requires_any:
                            requirements:
                            - provider_name: origins-0
                            - provider_name: origins-1
                            - requires_all:
                                requirements:
                                - requires_any: {requirements: [{provider_name: origins-0}, {allow_missing: {}}]}
                                - requires_any: {requirements: [{provider_name: origins-1}, {allow_missing: {}}]}
                  - name: istio_authn
                    typed_config:
                      "@type": type.googleapis.com/istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig
                      policy:
                        origins: [{jwt: {issuer: %3$s}}, {jwt: {issuer: %5$s}}]
                        origin_is_optional: true
                        principal_binding: USE_ORIGIN
                      skip_validate_trust_domain: true
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend}}]
          - name: https
            address: {socket_address: {address: %1$s, port_value: %9$d}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    tls_certificates:
                    - certificate_chain: {inline_string: "%10$s"}
                      private_key: {inline_string: "%11$s"}
                    validation_context: {trusted_ca: {inline_string: "%12$s"}}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: jwt_tls
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %7$s
                      format: "tls %%RESPONSE_CODE%% %%DYNAMIC_METADATA(istio_authn:source.principal)%% %%DYNAMIC_METADATA(istio_authn:source.namespace)%% %%DYNAMIC_METADATA(istio_authn:request.auth.principal)%%\\n"
                  http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      bypass_cors_preflight: true
                      providers:
                        origins-0:
                          issuer: %3$s
                          audiences: [weather]
                          payload_in_metadata: %3$s
                          forward_payload_header: x-jwt-payload
                          claim_to_headers: [{header_name: x-jwt-sub, claim_name: sub}, {header_name: x-jwt-groups, claim_name: groups}]
                          local_jwks: {inline_string: "%4$s"}
                        origins-1:
                          issuer: %5$s
                          payload_in_metadata: %5$s
                          forward: true
                          from_headers: [{name: x-token}]
                          from_params: [token]
                          remote_jwks:
                            http_uri: {uri: "http://jwks.example:%6$d/jwks", cluster: "outbound|%6$d||jwks.example", timeout: 5s}
                            cache_duration: 1s
                      rules:
                      - match: {prefix: /}
                        requires:
                          requires_any:
                            requirements:
                            - provider_name: origins-0
                            - provider_name: origins-1
                            - requires_all:
                                requirements:
                                - requires_any: {requirements: [{provider_name: origins-0}, {allow_missing: {}}]}
                                - requires_any: {requirements: [{provider_name: origins-1}, {allow_missing: {}}]}
                  - name: istio_authn
                    typed_config:
                      "@type": type.googleapis.com/istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig
                      policy:
                        origins: [{jwt: {issuer: %3$s}}, {jwt: {issuer: %5$s}}]
                        origin_is_optional: true
                        principal_binding: USE_ORIGIN
                      skip_validate_trust_domain: true
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
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.7.43, port_value: %8$d}}}}]}]
          - name: "outbound|%6$d||jwks.example"
            type: STATIC
            load_assignment:
              cluster_name: "outbound|%6$d||jwks.example"
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.7.42, port_value: %6$d}}}}]}]
        """
            .formatted(
                IP,
                port,
                ISS_LOCAL,
                local,
                ISS_REMOTE,
                jwks.getAddress().getPort(),
                accessLog,
                backend.getAddress().getPort(),
                tlsPort,
                escape(serverCert.certPem()),
                escape(serverCert.keyPem()),
                escape(pki.rootPem()));
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("jwt.yaml", yaml), ProxyOptions.defaults().withWorkers(2));
  }

  static String escape(String pem) {
    return pem.replace("\n", "\\n");
  }

  @AfterAll
  static void stop() {
    proxy.close();
    jwks.stop(0);
    backend.stop(0);
  }

  static JWTClaimsSet.Builder claims(String iss) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(iss)
        .subject("alice")
        .audience("weather")
        .claim("groups", List.of("admins", "ops"))
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(600)));
  }

  static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet c)
      throws Exception {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), c);
    jwt.sign(signer);
    return jwt.serialize();
  }

  static String es256(JWTClaimsSet c) throws Exception {
    return sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec-1", c);
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    var req =
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + port + path))
            .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      req.header(headers[i], headers[i + 1]);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> bearer(String token) throws Exception {
    return get("/forecast?city=x", "authorization", "Bearer " + token);
  }

  static void assertRejected(HttpResponse<String> r, int status, String body) {
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(r.body()).isEqualTo(body);
    assertThat(r.headers().firstValue("www-authenticate"))
        .hasValue(
            "Bearer realm=\"http://"
                + IP
                + ":"
                + port
                + "/forecast?city=x\", error=\"invalid_token\"");
  }

  @Test
  void aValidTokenPassesWithItsClaimsAsHeadersAndTheTokenRemoved() throws Exception {
    String token = es256(claims(ISS_LOCAL).build());
    var r = bearer(token);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("x-jwt-sub=alice\n").contains("x-jwt-groups=admins,ops\n");
    assertThat(r.body()).contains("x-jwt-payload=" + token.split("\\.")[1] + "\n");
    assertThat(r.body()).doesNotContain("authorization=");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(Files.readString(accessLog))
                    .contains("200 " + ISS_LOCAL + "/alice weather [\"admins\",\"ops\"]"));
  }

  @Test
  void spoofedClaimHeadersAreDroppedWhenNoTokenCame() throws Exception {
    var r = get("/x", "x-jwt-sub", "mallory", "x-jwt-payload", "e30");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).doesNotContain("x-jwt-sub=").doesNotContain("x-jwt-payload=");
  }

  @Test
  void aMissingTokenPasses() throws Exception {
    assertThat(get("/forecast").statusCode()).isEqualTo(200);
  }

  @Test
  void aForgedSignatureIsRefused() throws Exception {
    String forged =
        sign(new ECDSASigner(ecOther), JWSAlgorithm.ES256, "ec-1", claims(ISS_LOCAL).build());
    assertRejected(bearer(forged), 401, "Jwt verification fails");
    // a payload swapped under a valid signature
    String[] good = es256(claims(ISS_LOCAL).build()).split("\\.");
    String other =
        Base64URL.encode(claims(ISS_LOCAL).subject("root").build().toString()).toString();
    assertRejected(bearer(good[0] + "." + other + "." + good[2]), 401, "Jwt verification fails");
  }

  @Test
  void expiredAndNotYetValidTokensAreRefusedBeyondTheClockSkew() throws Exception {
    Instant now = Instant.now();
    var expired = claims(ISS_LOCAL).expirationTime(Date.from(now.minusSeconds(120))).build();
    assertRejected(bearer(es256(expired)), 401, "Jwt is expired");
    var early = claims(ISS_LOCAL).notBeforeTime(Date.from(now.plusSeconds(300))).build();
    assertRejected(bearer(es256(early)), 401, "Jwt not yet valid");
    // within the 60 s default skew: accepted
    var justExpired = claims(ISS_LOCAL).expirationTime(Date.from(now.minusSeconds(20))).build();
    assertThat(bearer(es256(justExpired)).statusCode()).isEqualTo(200);
  }

  @Test
  void algNoneAndUnconfiguredHmacAreRefused() throws Exception {
    String payload = Base64URL.encode(claims(ISS_LOCAL).build().toString()).toString();
    String none = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + payload + ".";
    assertRejected(bearer(none), 401, "Jwt header [alg] is not supported");
    String hs =
        sign(new MACSigner(new byte[32]), JWSAlgorithm.HS256, "ec-1", claims(ISS_LOCAL).build());
    assertRejected(bearer(hs), 401, "Jwt verification fails");
  }

  @Test
  void wrongIssuerAndWrongAudienceAreRefused() throws Exception {
    assertRejected(
        bearer(es256(claims("https://evil.example").build())), 401, "Jwt issuer is not configured");
    assertRejected(
        bearer(es256(claims(ISS_LOCAL).audience("other").build())),
        403,
        "Audiences in Jwt are not allowed");
  }

  @Test
  void hugeNestedAndMalformedTokensAreRefused() throws Exception {
    String huge = es256(claims(ISS_LOCAL).claim("pad", "x".repeat(9000)).build());
    assertRejected(bearer(huge), 401, "Jwt verification fails");
    String nested = "[".repeat(200) + "]".repeat(200);
    String nestedPayload =
        Base64URL.encode("{\"iss\":\"" + ISS_LOCAL + "\",\"n\":" + nested + "}").toString();
    String head = Base64URL.encode("{\"alg\":\"ES256\",\"kid\":\"ec-1\"}").toString();
    assertRejected(
        bearer(head + "." + nestedPayload + ".c2ln"), 401, "Jwt payload is an invalid JSON");
    assertRejected(
        bearer("only.two"),
        401,
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
    assertRejected(bearer("%%%.e30.c2ln"), 401, "Jwt header is an invalid Base64url encoded");
    // the proxy still serves
    assertThat(bearer(es256(claims(ISS_LOCAL).build())).statusCode()).isEqualTo(200);
  }

  @Test
  void remoteKeysAreFetchedThroughTheClusterCachedAndRotated() throws Exception {
    for (JWSAlgorithm alg :
        List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256)) {
      String t = sign(new RSASSASigner(rsa), alg, "rsa-1", claims(ISS_REMOTE).build());
      var r = get("/forecast", "x-token", t);
      assertThat(r.statusCode()).as(alg.getName()).isEqualTo(200);
      // forward: true keeps the token
      assertThat(r.body()).contains("x-token=" + t);
    }
    assertThat(fetches.get()).isBetween(1, 3);
    // the query parameter works too
    String t = sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa-1", claims(ISS_REMOTE).build());
    assertThat(get("/forecast?token=" + t).statusCode()).isEqualTo(200);
    // rotation: a token of the new key fails until the cache (1 s) is refreshed
    served.set(new JWKSet(List.of(rsa.toPublicJWK(), rsaNext.toPublicJWK())).toString());
    String next =
        sign(new RSASSASigner(rsaNext), JWSAlgorithm.RS256, "rsa-2", claims(ISS_REMOTE).build());
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(
            () -> assertThat(get("/forecast", "x-token", next).statusCode()).isEqualTo(200));
    // a failed refresh keeps the last good keys
    served.set("not json");
    Thread.sleep(1200);
    assertThat(get("/forecast", "x-token", next).statusCode()).isEqualTo(200);
    assertThat(get("/forecast", "x-token", next).statusCode()).isEqualTo(200);
  }

  @Test
  void istioAuthnNamesTheMtlsPeerBesideTheTokensPrincipal() throws Exception {
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry(
        "client",
        clientCert.key().getPrivate(),
        new char[0],
        new java.security.cert.Certificate[] {clientCert.cert()});
    var kmf =
        javax.net.ssl.KeyManagerFactory.getInstance(
            javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", pki.root);
    var tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    var ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    String token = es256(claims(ISS_LOCAL).subject("bob").build());
    try (var socket = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(IP, tlsPort)) {
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              ("GET /peer HTTP/1.1\r\nHost: forecast\r\nAuthorization: Bearer "
                      + token
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 200");
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(Files.readString(accessLog))
                    .contains(
                        "tls 200 cluster.local/ns/shop/sa/frontend shop " + ISS_LOCAL + "/bob"));
  }
}
