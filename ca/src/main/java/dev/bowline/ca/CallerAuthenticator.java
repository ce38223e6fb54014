package dev.bowline.ca;

import static dev.bowline.ca.CaException.Reason.UNAUTHENTICATED;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Decides who a caller is, as Istio's CA does: first its client certificate (renewal), then its
 * bearer token. The TLS layer accepts any client certificate whose key the peer holds; the chain is
 * checked here against the current trust bundle, so a bad one gets a precise UNAUTHENTICATED reason
 * instead of a failed handshake, and a rotated bundle applies at once.
 */
final class CallerAuthenticator {
  private static final String BEARER = "bearer ";

  /** What a call brought: the raw {@code authorization} value and the TLS peer's chain. */
  record Credentials(@Nullable String authorization, List<X509Certificate> peerChain) {
    Credentials {
      peerChain = List.copyOf(peerChain);
    }
  }

  private final CertificateAuthority ca;
  private final TokenAuthenticator tokens;

  CallerAuthenticator(CertificateAuthority ca, TokenAuthenticator tokens) {
    this.ca = ca;
    this.tokens = tokens;
  }

  /**
   * The caller's identities.
   *
   * @throws CaException UNAUTHENTICATED naming why each presented credential failed
   */
  Set<WorkloadIdentity> authenticate(Credentials credentials) {
    List<String> failures = new ArrayList<>(2);
    if (!credentials.peerChain().isEmpty()) {
      try {
        return fromCertificate(credentials.peerChain());
      } catch (CaException e) {
        failures.add("client certificate: " + e.getMessage());
      }
    }
    String authorization = credentials.authorization();
    if (authorization != null) {
      try {
        return fromToken(authorization);
      } catch (CaException e) {
        failures.add("bearer token: " + e.getMessage());
      }
    }
    if (failures.isEmpty()) {
      throw new CaException(
          UNAUTHENTICATED,
          "no credential: send gRPC metadata 'authorization: Bearer <token>' or present a client"
              + " certificate issued by this CA");
    }
    throw new CaException(UNAUTHENTICATED, String.join("; ", failures));
  }

  private Set<WorkloadIdentity> fromToken(String authorization) {
    if (authorization.length() <= BEARER.length()
        || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      throw new CaException(UNAUTHENTICATED, "'authorization' metadata must be 'Bearer <token>'");
    }
    String token = authorization.substring(BEARER.length()).strip();
    return switch (tokens.authenticate(token)) {
      case TokenAuthenticator.Valid v -> {
        try {
          yield Set.of(
              new WorkloadIdentity(ca.config().trustDomain(), v.namespace(), v.serviceAccount()));
        } catch (IllegalArgumentException e) {
          throw new CaException(
              UNAUTHENTICATED, "token maps to no valid identity: " + e.getMessage());
        }
      }
      case TokenAuthenticator.Invalid i -> throw new CaException(UNAUTHENTICATED, i.reason());
    };
  }

  private Set<WorkloadIdentity> fromCertificate(List<X509Certificate> chain) {
    X509Certificate leaf = chain.getFirst();
    Instant now = ca.clock().instant();
    if (now.isAfter(leaf.getNotAfter().toInstant())) {
      throw new CaException(
          UNAUTHENTICATED, "expired at " + leaf.getNotAfter().toInstant() + " (now " + now + ")");
    }
    if (now.isBefore(leaf.getNotBefore().toInstant())) {
      throw new CaException(
          UNAUTHENTICATED,
          "not valid before " + leaf.getNotBefore().toInstant() + " (now " + now + ")");
    }
    validatePath(chain, now);
    Set<WorkloadIdentity> ids = new LinkedHashSet<>();
    try {
      var sans = leaf.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (((Integer) san.get(0)) == 6) { // uniformResourceIdentifier
            String uri = (String) san.get(1);
            try {
              WorkloadIdentity id = WorkloadIdentity.parse(uri);
              if (id.trustDomain().equals(ca.config().trustDomain())) {
                ids.add(id);
              }
            } catch (IllegalArgumentException ignored) {
              // not an Istio workload identity: not usable for renewal
            }
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new CaException(UNAUTHENTICATED, "subjectAltName cannot be read: " + e.getMessage());
    }
    if (ids.isEmpty()) {
      throw new CaException(
          UNAUTHENTICATED,
          "carries no SPIFFE identity of trust domain '" + ca.config().trustDomain() + "'");
    }
    return Set.copyOf(ids);
  }

  private void validatePath(List<X509Certificate> chain, Instant now) {
    List<X509Certificate> roots = ca.trustBundle().roots();
    List<X509Certificate> path = new ArrayList<>(chain.size());
    Set<X509Certificate> rootSet = new HashSet<>(roots);
    for (X509Certificate c : chain) {
      if (!rootSet.contains(c)) {
        path.add(c);
      }
    }
    if (path.isEmpty()) {
      throw new CaException(UNAUTHENTICATED, "is a root, not a workload certificate");
    }
    try {
      CertPaths.validate(path, roots, now);
    } catch (CertPathValidatorException e) {
      String reason =
          switch (e.getReason()) {
            case CertPathValidatorException.BasicReason.EXPIRED ->
                "a certificate in its chain expired";
            case CertPathValidatorException.BasicReason.NOT_YET_VALID ->
                "a certificate in its chain is not valid yet";
            case CertPathValidatorException.BasicReason.INVALID_SIGNATURE ->
                "a signature in its chain does not verify";
            default ->
                "is not signed by a root this CA trusts (issuer "
                    + chain.getFirst().getIssuerX500Principal()
                    + ")";
          };
      throw new CaException(UNAUTHENTICATED, reason);
    } catch (GeneralSecurityException e) {
      throw new CaException(UNAUTHENTICATED, "chain cannot be checked: " + e.getMessage());
    }
  }
}
