package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RequestAuthentication end to end (issue #9): Istio YAML in a watched directory → Bowline's
 * control plane → forecast's sidecar (jwt_authn + istio_authn on its inbound chain, the JWKS
 * fetched through a cluster the control plane generated for the jwksUri host) → the app. Keys and
 * tokens are made here with Nimbus; the JWKS is served by a local HTTP server and rotated.
 */
class RequestAuthnIT {
  static final String NET = TestNet.ip("127.0.11");
  static final String JWKS_IP = NET + ".50";
  static final String ISSUER = "https://auth.weather.example";

  @TempDir static Path dir;
  static PolicyMesh mesh;
  static HttpServer jwks;
  static ECKey ec;
  static RSAKey rsa;
  static RSAKey rsaNext;
  static final AtomicReference<String> served = new AtomicReference<>();
  static final ConcurrentLinkedQueue<String> fetchHosts = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() throws Exception {
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    rsaNext = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    served.set(new JWKSet(List.of(ec.toPublicJWK(), rsa.toPublicJWK())).toString());
    jwks = HttpServer.create(new InetSocketAddress(JWKS_IP, 0), 16);
    jwks.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    jwks.createContext(
        "/jwks",
        ex -> {
          fetchHosts.add(String.valueOf(ex.getRequestHeaders().getFirst("Host")));
          byte[] b = served.get().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("content-type", "application/json");
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    jwks.start();
    mesh = new PolicyMesh(dir, NET, List.of("v1"));
    String jwksUri = "http://" + JWKS_IP + ":" + jwks.getAddress().getPort() + "/jwks";
    mesh.apply(
        "jwt.yaml",
        """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata:
          name: forecast-jwt
          namespace: weather
          annotations: {bowline.dev/jwks-cache-duration: 1s}
        spec:
          selector: {matchLabels: {app: forecast}}
          jwtRules:
          - issuer: %s
            audiences: [weather]
            jwksUri: %s
            outputPayloadToHeader: x-jwt-payload
            outputClaimToHeaders:
            - {header: x-jwt-sub, claim: sub}
            - {header: x-jwt-plan, claim: plan}
        """
            .formatted(ISSUER, jwksUri));
    // in force once forecast's sidecar has the filter
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.proxies.get(1).snapshot().toString().contains("jwt_authn"));
  }

  @AfterAll
  static void stop() {
    if (mesh != null) {
      mesh.close();
    }
    if (jwks != null) {
      jwks.stop(0);
    }
  }

  static JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .subject("alice")
        .audience("weather")
        .claim("plan", "gold")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(600)));
  }

  static String es256(JWTClaimsSet c, ECKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(key.getKeyID())
                .type(JOSEObjectType.JWT)
                .build(),
            c);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  static String rs256(JWTClaimsSet c, RSAKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), c);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  static HttpResponse<String> call(String path, String token) {
    var b = PolicyMesh.to(path);
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    return mesh.call(b);
  }

  @Test
  void aValidTokenReachesTheAppWithItsClaimsAndTheKeysCameThroughTheSidecar() throws Exception {
    String token = es256(claims().build(), ec);
    var r = call("/valid", token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Map<String, String> seen = mesh.apps.getFirst().headersByPath.get("/valid");
    assertThat(seen).containsEntry("x-jwt-sub", "alice").containsEntry("x-jwt-plan", "gold");
    assertThat(seen).containsEntry("x-jwt-payload", token.split("\\.")[1]);
    // forwardOriginalToken is false: the token stops at the sidecar
    assertThat(seen).doesNotContainKey("authorization");
    // the sidecar fetched the JWKS (through its generated cluster), not the test
    assertThat(fetchHosts).isNotEmpty();
    assertThat(fetchHosts.peek()).isEqualTo(JWKS_IP + ":" + jwks.getAddress().getPort());
    assertThat(call("/valid-rs", rs256(claims().build(), rsa)).statusCode()).isEqualTo(200);
  }

  @Test
  void anAuthorizationPolicyOnRequestPrincipalsAndClaimsTurnsAMissingOrWrongTokenInto403()
      throws Exception {
    // Istio's documented "require a JWT" pattern, and a claim-based rule, both as DENY policies
    // on their own paths so the other tests' requests are untouched.
    mesh.apply(
        "jwt-required.yaml",
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: weather}
        spec:
          selector: {matchLabels: {app: forecast}}
          action: DENY
          rules:
          - from: [{source: {notRequestPrincipals: ["*"]}}]
            to: [{operation: {paths: ["/secure/*"]}}]
          - to: [{operation: {paths: ["/gold/*"]}}]
            when: [{key: "request.auth.claims[plan]", notValues: [gold]}]
        """);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> call("/secure/a", null).statusCode() == 403);
    var missing = call("/secure/a", null);
    assertThat(missing.body()).isEqualTo("RBAC: access denied");
    assertThat(call("/secure/b", es256(claims().build(), ec)).statusCode()).isEqualTo(200);
    // requestPrincipal is iss/sub, claims come from istio_authn's request.auth.claims
    assertThat(call("/gold/a", es256(claims().build(), ec)).statusCode()).isEqualTo(200);
    var silver = call("/gold/b", es256(claims().claim("plan", "silver").build(), ec));
    assertThat(silver.statusCode()).isEqualTo(403);
    // an invalid token is still jwt_authn's 401, before RBAC
    assertThat(
            call(
                    "/secure/c",
                    es256(
                        claims().build(), new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate()))
                .statusCode())
        .isEqualTo(401);
    // unaffected paths keep passing without a token
    assertThat(call("/open", null).statusCode()).isEqualTo(200);
  }

  @Test
  void aMissingTokenPasses() {
    var r = call("/none", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(mesh.apps.getFirst().headersByPath.get("/none")).doesNotContainKey("x-jwt-sub");
  }

  @Test
  void forgedExpiredAndWrongAudienceTokensAreRefusedAtTheSidecar() throws Exception {
    int before = mesh.apps.getFirst().requests.get();
    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    var forged = call("/forged", es256(claims().build(), other));
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.body()).isEqualTo("Jwt verification fails");
    assertThat(forged.headers().firstValue("www-authenticate"))
        .hasValueSatisfying(
            v -> assertThat(v).startsWith("Bearer realm=").endsWith("error=\"invalid_token\""));
    var expired =
        call(
            "/expired",
            es256(claims().expirationTime(Date.from(Instant.now().minusSeconds(300))).build(), ec));
    assertThat(expired.statusCode()).isEqualTo(401);
    assertThat(expired.body()).isEqualTo("Jwt is expired");
    var none = call("/none-alg", "eyJhbGciOiJub25lIn0." + "eyJpc3MiOiJ4In0" + ".");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.body()).isEqualTo("Jwt header [alg] is not supported");
    var aud = call("/aud", es256(claims().audience("shop").build(), ec));
    assertThat(aud.statusCode()).isEqualTo(403);
    assertThat(aud.body()).isEqualTo("Audiences in Jwt are not allowed");
    // none of them reached the app
    assertThat(mesh.apps.getFirst().requests.get()).isEqualTo(before);
  }

  @Test
  void aRotatedKeyIsPickedUpAfterTheCacheDuration() throws Exception {
    String next = rs256(claims().build(), rsaNext);
    // make sure the old set is cached, then rotate
    assertThat(call("/before-rotation", es256(claims().build(), ec)).statusCode()).isEqualTo(200);
    served.set(new JWKSet(List.of(ec.toPublicJWK(), rsaNext.toPublicJWK())).toString());
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> call("/rotated", next).statusCode() == 200);
    assertThat(mesh.apps.getFirst().headersByPath.get("/rotated"))
        .containsEntry("x-jwt-sub", "alice");
  }
}
