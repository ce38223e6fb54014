package dev.bowline.proxy.http.filter.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's checks of one token, in its order: shape and JSON of header and payload, issuer, time
 * ({@code nbf}/{@code exp} with clock skew), audiences, then the signature with the JWKS keys that
 * match its {@code kid} and {@code alg} (Nimbus JOSE does the cryptography). Stateless; safe on any
 * thread.
 */
final class JwtVerifier {
  private JwtVerifier() {}

  /**
   * Tokens longer than this are refused before any decoding (8 KiB, as NGINX's and most proxies'
   * default header buffer; Envoy's own bound is its 60 KiB header limit).
   */
  static final int MAX_TOKEN_CHARS = 8 * 1024;

  /** JSON nested deeper than this in header or payload is refused before parsing. */
  static final int MAX_JSON_DEPTH = 32;

  /** Algorithms verified: RSA PKCS#1 and PSS, ECDSA, and HMAC (only with an {@code oct} key). */
  static final Set<String> ALGORITHMS =
      Set.of(
          "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
          "HS384", "HS512");

  /** A token that parsed: its parts and the claims Envoy looks at. */
  record Parsed(
      String alg,
      @Nullable String kid,
      Map<String, Object> payload,
      String issuer,
      String subject,
      List<String> audiences,
      @Nullable Long exp,
      @Nullable Long nbf,
      String headerPart,
      String payloadPart,
      String signaturePart) {}

  /** A parse result: the token, or why it is not one. */
  record ParseResult(@Nullable Parsed token, JwtStatus status) {
    static ParseResult failed(JwtStatus s) {
      return new ParseResult(null, s);
    }
  }

  /** Parses {@code token} without checking its signature. */
  static ParseResult parse(String token) {
    if (token.length() > MAX_TOKEN_CHARS) {
      return ParseResult.failed(JwtStatus.JWT_VERIFICATION_FAIL);
    }
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
      return ParseResult.failed(JwtStatus.JWT_BAD_FORMAT);
    }
    String h = token.substring(0, dot1);
    String p = token.substring(dot1 + 1, dot2);
    String s = token.substring(dot2 + 1);
    String headerJson = decode(h);
    if (headerJson == null) {
      return ParseResult.failed(JwtStatus.JWT_HEADER_BAD_BASE64);
    }
    Map<String, Object> header = json(headerJson);
    if (header == null) {
      return ParseResult.failed(JwtStatus.JWT_HEADER_BAD_JSON);
    }
    if (!(header.get("alg") instanceof String alg)) {
      return ParseResult.failed(JwtStatus.JWT_HEADER_BAD_ALG);
    }
    if (!ALGORITHMS.contains(alg)) {
      return ParseResult.failed(JwtStatus.JWT_HEADER_NOT_IMPLEMENTED_ALG);
    }
    Object kidValue = header.get("kid");
    if (kidValue != null && !(kidValue instanceof String)) {
      return ParseResult.failed(JwtStatus.JWT_HEADER_BAD_KID);
    }
    String payloadJson = decode(p);
    if (payloadJson == null) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_BAD_BASE64);
    }
    Map<String, Object> payload = json(payloadJson);
    if (payload == null) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_BAD_JSON);
    }
    Object iss = payload.get("iss");
    if (iss != null && !(iss instanceof String)) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_ISS_NOT_STRING);
    }
    Object sub = payload.get("sub");
    if (sub != null && !(sub instanceof String)) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_SUB_NOT_STRING);
    }
    if (payload.get("jti") instanceof Object jti && !(jti instanceof String)) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_JTI_NOT_STRING);
    }
    if (!isInteger(payload.get("iat"))) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_IAT_NOT_INTEGER);
    }
    if (!isInteger(payload.get("nbf"))) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_NBF_NOT_INTEGER);
    }
    if (!isInteger(payload.get("exp"))) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_EXP_NOT_INTEGER);
    }
    List<String> aud = new ArrayList<>(1);
    Object a = payload.get("aud");
    if (a instanceof String one) {
      aud.add(one);
    } else if (a instanceof List<?> many) {
      for (Object o : many) {
        if (!(o instanceof String str)) {
          return ParseResult.failed(JwtStatus.JWT_PAYLOAD_AUD_NOT_STRING);
        }
        aud.add(str);
      }
    } else if (a != null) {
      return ParseResult.failed(JwtStatus.JWT_PAYLOAD_AUD_NOT_STRING);
    }
    if (decodeBytes(s) == null) {
      return ParseResult.failed(JwtStatus.JWT_SIGNATURE_BAD_BASE64);
    }
    return new ParseResult(
        new Parsed(
            alg,
            (String) kidValue,
            payload,
            iss == null ? "" : (String) iss,
            sub == null ? "" : (String) sub,
            List.copyOf(aud),
            number(payload.get("exp")),
            number(payload.get("nbf")),
            h,
            p,
            s),
        JwtStatus.OK);
  }

  /** Envoy's time constraint: active ({@code nbf}) and not expired ({@code exp}), with skew. */
  static JwtStatus checkTime(Parsed t, long nowSeconds, int skewSeconds) {
    Long nbf = t.nbf();
    if (nbf != null && nowSeconds + skewSeconds < nbf) {
      return JwtStatus.JWT_NOT_YET_VALID;
    }
    Long exp = t.exp();
    if (exp != null && nowSeconds > exp + skewSeconds) {
      return JwtStatus.JWT_EXPIRED;
    }
    return JwtStatus.OK;
  }

  /**
   * Whether one of the token's audiences is allowed; both sides compared without {@code http://},
   * {@code https://} and a trailing slash, as Envoy does. Empty {@code allowed}: any.
   */
  static boolean audienceAllowed(Parsed t, List<String> allowed) {
    if (allowed.isEmpty()) {
      return true;
    }
    for (String aud : t.audiences()) {
      String n = normalizeAudience(aud);
      for (String ok : allowed) {
        if (normalizeAudience(ok).equals(n)) {
          return true;
        }
      }
    }
    return false;
  }

  static String normalizeAudience(String a) {
    String s = a;
    if (s.startsWith("http://")) {
      s = s.substring(7);
    } else if (s.startsWith("https://")) {
      s = s.substring(8);
    }
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The signature check: every key whose {@code kid} (when both have one) and {@code alg} (when the
   * key has one) match is tried; none matching is JWKS_KID_ALG_MISMATCH, none verifying
   * JWT_VERIFICATION_FAIL.
   */
  static JwtStatus checkSignature(Parsed t, JwksKeys keys) {
    SignedJWT jwt;
    try {
      jwt =
          new SignedJWT(
              new Base64URL(t.headerPart()),
              new Base64URL(t.payloadPart()),
              new Base64URL(t.signaturePart()));
    } catch (java.text.ParseException e) {
      return JwtStatus.JWT_VERIFICATION_FAIL;
    }
    boolean matched = false;
    for (JwksKeys.Entry e : keys.keys()) {
      JWK key = e.key();
      if (t.kid() != null && key.getKeyID() != null && !key.getKeyID().equals(t.kid())) {
        continue;
      }
      if (key.getAlgorithm() != null && !key.getAlgorithm().getName().equals(t.alg())) {
        continue;
      }
      matched = true;
      JWSVerifier verifier = e.verifier();
      if (verifier == null || !fits(key, t.alg())) {
        continue;
      }
      try {
        if (jwt.verify(verifier)) {
          return JwtStatus.OK;
        }
      } catch (JOSEException | IllegalStateException ex) {
        // a key that cannot check this signature: try the next
      }
    }
    return matched ? JwtStatus.JWT_VERIFICATION_FAIL : JwtStatus.JWKS_KID_ALG_MISMATCH;
  }

  /** Whether {@code key}'s type (and curve) can verify {@code alg}. */
  private static boolean fits(JWK key, String alg) {
    return switch (key) {
      case RSAKey rsa -> alg.startsWith("RS") || alg.startsWith("PS");
      case ECKey ec ->
          alg.startsWith("ES")
              && com.nimbusds.jose.jwk.Curve.forJWSAlgorithm(JWSAlgorithm.parse(alg))
                  .contains(ec.getCurve());
      case OctetSequenceKey oct -> alg.startsWith("HS");
      default -> false;
    };
  }

  private static boolean isInteger(@Nullable Object o) {
    if (o == null) {
      return true;
    }
    if (o instanceof Long || o instanceof Integer) {
      return true;
    }
    return o instanceof Double d && d == Math.rint(d) && !d.isInfinite();
  }

  private static @Nullable Long number(@Nullable Object o) {
    return o instanceof Number n ? n.longValue() : null;
  }

  private static byte @Nullable [] decodeBytes(String part) {
    try {
      return Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static @Nullable String decode(String part) {
    byte[] b = decodeBytes(part);
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** A JSON object, or null when not one, or nested deeper than {@link #MAX_JSON_DEPTH}. */
  static @Nullable Map<String, Object> json(String s) {
    if (!shallow(s)) {
      return null;
    }
    try {
      return JSONObjectUtils.parse(s);
    } catch (java.text.ParseException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the brackets outside strings nest no deeper than {@link #MAX_JSON_DEPTH}. */
  static boolean shallow(String s) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        if (++depth > MAX_JSON_DEPTH) {
          return false;
        }
      } else if (c == '}' || c == ']') {
        depth--;
      }
    }
    return true;
  }
}
