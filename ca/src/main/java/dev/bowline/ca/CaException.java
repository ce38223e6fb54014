package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

/**
 * A refused certificate request. The message names the field or credential that is wrong; the
 * {@link Reason} says which gRPC status the server answers with.
 */
public final class CaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why a request was refused. */
  public enum Reason {
    /** The request itself is malformed (CSR, lifetime, metadata): gRPC INVALID_ARGUMENT. */
    INVALID_ARGUMENT,
    /** The caller is authenticated but asks for an identity it does not hold: PERMISSION_DENIED. */
    PERMISSION_DENIED,
    /** No valid credential (token or client certificate): UNAUTHENTICATED. */
    UNAUTHENTICATED,
    /** The CA itself failed: INTERNAL. */
    INTERNAL
  }

  private final Reason reason;

  /** A refusal for {@code reason} with a message that names what is wrong. */
  public CaException(Reason reason, String message) {
    super(message);
    this.reason = requireNonNull(reason, "reason");
  }

  /** A refusal caused by {@code cause}. */
  public CaException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = requireNonNull(reason, "reason");
  }

  /** Why the request was refused. */
  public Reason reason() {
    return reason;
  }
}
