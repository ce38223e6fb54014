package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens for the local mesh runner: it {@link #issue issues} one per workload (namespace and
 * service account) and hands it to that workload's agent, which sends it as {@code authorization:
 * Bearer <token>}. Tokens are 256 random bits, held in memory only, valid until revoked.
 */
public final class LocalTokenIssuer implements TokenAuthenticator {
  private final SecureRandom random;
  private final Map<String, Valid> tokens = new ConcurrentHashMap<>();

  /** An issuer drawing tokens from {@code random}. */
  public LocalTokenIssuer(SecureRandom random) {
    this.random = requireNonNull(random, "random");
  }

  /** A new token that proves {@code namespace}/{@code serviceAccount}. */
  public String issue(String namespace, String serviceAccount) {
    Valid identity = new Valid(namespace, serviceAccount);
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tokens.put(token, identity);
    return token;
  }

  /** Makes {@code token} worthless. */
  public void revoke(String token) {
    tokens.remove(token);
  }

  @Override
  public Verdict authenticate(String token) {
    Valid v = tokens.get(token);
    return v != null ? v : new Invalid("token is unknown or revoked");
  }
}
