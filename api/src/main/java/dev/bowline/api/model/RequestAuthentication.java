package dev.bowline.api.model;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** security.istio.io RequestAuthentication: which JWTs a workload accepts. */
public record RequestAuthentication(
    @Nullable LabelSelector selector,
    @Nullable PolicyTargetReference targetRef,
    List<PolicyTargetReference> targetRefs,
    List<JWTRule> jwtRules)
    implements Spec {
  public RequestAuthentication {
    targetRefs = Freeze.list(targetRefs);
    jwtRules = Freeze.list(jwtRules);
  }

  /** How to validate one issuer's tokens. */
  public record JWTRule(
      @Nullable String issuer,
      List<String> audiences,
      @Nullable String jwksUri,
      @Nullable String jwks,
      List<JWTHeader> fromHeaders,
      List<String> fromParams,
      List<String> fromCookies,
      @Nullable String outputPayloadToHeader,
      @Nullable Boolean forwardOriginalToken,
      List<ClaimToHeader> outputClaimToHeaders,
      List<String> spaceDelimitedClaims,
      @Nullable Duration timeout) {
    public JWTRule {
      audiences = Freeze.list(audiences);
      fromHeaders = Freeze.list(fromHeaders);
      fromParams = Freeze.list(fromParams);
      fromCookies = Freeze.list(fromCookies);
      outputClaimToHeaders = Freeze.list(outputClaimToHeaders);
      spaceDelimitedClaims = Freeze.list(spaceDelimitedClaims);
    }
  }

  /** A header that carries the token, with an optional prefix such as {@code "Bearer "}. */
  public record JWTHeader(@Nullable String name, @Nullable String prefix) {}

  /** Copies a claim into a request header. */
  public record ClaimToHeader(@Nullable String header, @Nullable String claim) {}
}
