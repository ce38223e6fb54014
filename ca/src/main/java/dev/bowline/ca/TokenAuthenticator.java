package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

/**
 * Vouches for a bearer token from the {@code authorization: Bearer <token>} gRPC metadata: the
 * local runner's {@link LocalTokenIssuer} today, Kubernetes TokenReview later. Implementations are
 * called on the CA's request threads and must be thread-safe and quick.
 */
@FunctionalInterface
public interface TokenAuthenticator {

  /** What the token proves. Never throws for a bad token: it answers {@link Invalid}. */
  Verdict authenticate(String token);

  /** An authenticator that accepts no token (client certificates only). */
  static TokenAuthenticator none() {
    return token -> new Invalid("this CA accepts no bearer tokens");
  }

  /** The answer for one token. */
  sealed interface Verdict {}

  /**
   * The token belongs to this Kubernetes-style service account.
   *
   * @param namespace the workload's namespace
   * @param serviceAccount the workload's service account
   */
  record Valid(String namespace, String serviceAccount) implements Verdict {
    public Valid {
      requireNonNull(namespace, "namespace");
      requireNonNull(serviceAccount, "serviceAccount");
    }
  }

  /**
   * The token proves nothing.
   *
   * @param reason why, for the caller's error message (never echo the token)
   */
  record Invalid(String reason) implements Verdict {
    public Invalid {
      requireNonNull(reason, "reason");
    }
  }
}
