package dev.bowline.proxy.http.filter.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A JWKS ready for verification: each public key with its Nimbus verifier built once (the key
 * conversion and EC point validation are not paid per token). Immutable; the verifiers are
 * stateless, so one set serves every event loop.
 *
 * @param keys the keys in JWKS order
 */
record JwksKeys(List<Entry> keys) {
  JwksKeys {
    keys = List.copyOf(keys);
  }

  /** A key and its verifier; null when Nimbus cannot verify with it (e.g. a short HMAC key). */
  record Entry(JWK key, @Nullable JWSVerifier verifier) {}

  /** The public keys of {@code set}, each with its verifier. */
  static JwksKeys of(JWKSet set) {
    List<Entry> out = new ArrayList<>();
    for (JWK k : set.getKeys()) {
      out.add(new Entry(k, verifier(k)));
    }
    return new JwksKeys(out);
  }

  private static @Nullable JWSVerifier verifier(JWK key) {
    try {
      return switch (key) {
        case RSAKey rsa -> new RSASSAVerifier(rsa);
        case ECKey ec -> new ECDSAVerifier(ec);
        case OctetSequenceKey oct -> new MACVerifier(oct);
        default -> null;
      };
    } catch (JOSEException e) {
      return null;
    }
  }
}
