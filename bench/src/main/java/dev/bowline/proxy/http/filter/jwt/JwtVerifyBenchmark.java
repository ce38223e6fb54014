package dev.bowline.proxy.http.filter.jwt;

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
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What jwt_authn pays per token on the request path: parse (shape, JSON, claims), time check and
 * signature check against a two-key JWKS, for ES256, RS256 (2048-bit) and PS256. In the filter's
 * own package (on the class path, not a module) because the verifier is package-private. Run with
 * {@code bench/jwt-bench.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JwtVerifyBenchmark {
  JwksKeys prepared;
  String es256;
  String rs256;
  String ps256;
  JwtCache cache;

  @Setup
  public void setup() throws Exception {
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    prepared = JwksKeys.of(new JWKSet(List.of(ec.toPublicJWK(), rsa.toPublicJWK())));
    JWTClaimsSet c =
        new JWTClaimsSet.Builder()
            .issuer("https://issuer.example")
            .subject("alice")
            .audience("weather")
            .claim("groups", List.of("a", "b"))
            .expirationTime(Date.from(Instant.now().plusSeconds(3600)))
            .build();
    es256 =
        sign(
            new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec").build(), c),
            new ECDSASigner(ec));
    rs256 =
        sign(
            new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa").build(), c),
            new RSASSASigner(rsa));
    ps256 =
        sign(
            new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.PS256).keyID("rsa").build(), c),
            new RSASSASigner(rsa));
    cache = new JwtCache(JwtCache.DEFAULT_SIZE, 0);
  }

  private static String sign(SignedJWT jwt, com.nimbusds.jose.JWSSigner signer) throws Exception {
    jwt.sign(signer);
    return jwt.serialize();
  }

  private JwtStatus verify(String token) {
    JwtVerifier.Parsed t = JwtVerifier.parse(token).token();
    if (t == null) {
      throw new IllegalStateException("does not parse");
    }
    JwtStatus s = JwtVerifier.checkTime(t, System.currentTimeMillis() / 1000, 60);
    if (s != JwtStatus.OK) {
      return s;
    }
    return JwtVerifier.checkSignature(t, prepared);
  }

  @Benchmark
  public JwtStatus es256() {
    return verify(es256);
  }

  @Benchmark
  public JwtStatus rs256() {
    return verify(rs256);
  }

  @Benchmark
  public JwtStatus ps256() {
    return verify(ps256);
  }

  /** An ES256 token found in jwt_cache_config's cache: lookup, time and audience checks only. */
  @Benchmark
  public JwtStatus es256Cached() {
    JwtVerifier.Parsed t = cache.lookup(es256);
    if (t == null) { // first call on this thread (the cache is per event loop)
      cache.put(es256, java.util.Objects.requireNonNull(JwtVerifier.parse(es256).token()));
      t = java.util.Objects.requireNonNull(cache.lookup(es256));
    }
    JwtStatus s = JwtVerifier.checkTime(t, System.currentTimeMillis() / 1000, 60);
    if (s != JwtStatus.OK) {
      return s;
    }
    return JwtVerifier.audienceAllowed(t, List.of("weather"))
        ? JwtStatus.OK
        : JwtStatus.JWT_AUDIENCE_NOT_ALLOWED;
  }

  @Benchmark
  public JwtVerifier.ParseResult parseOnly() {
    return JwtVerifier.parse(es256);
  }
}
