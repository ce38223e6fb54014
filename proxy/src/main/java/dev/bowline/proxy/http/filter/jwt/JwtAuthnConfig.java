package dev.bowline.proxy.http.filter.jwt;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The parsed {@code JwtAuthentication}: providers by name, the rules (first match wins) and the
 * named requirements. Immutable apart from the JWKS caches the remote providers share.
 *
 * @param providers the providers by name
 * @param rules requirement per path, in order
 * @param requirementMap requirements rules name with {@code requirement_name}
 * @param bypassCorsPreflight whether CORS preflights pass unchecked
 * @param stats the filter's counters
 */
record JwtAuthnConfig(
    Map<String, Provider> providers,
    List<Rule> rules,
    Map<String, Requirement> requirementMap,
    boolean bypassCorsPreflight,
    JwtAuthnStats stats) {
  JwtAuthnConfig {
    // by name, so checks over all providers run in a stable order
    providers = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(providers));
    rules = List.copyOf(rules);
    requirementMap = Map.copyOf(requirementMap);
  }

  /** Envoy's default clock skew for {@code exp}/{@code nbf}, seconds. */
  static final int DEFAULT_CLOCK_SKEW_SECONDS = 60;

  /**
   * One issuer's tokens: where to find them, how to check them, what to emit.
   *
   * @param name the provider's key in {@code providers}
   * @param issuer required {@code iss}; empty: any
   * @param audiences allowed {@code aud} values (normalized); empty: any
   * @param jwks where the keys come from
   * @param fromHeaders headers carrying the token
   * @param fromParams query parameters carrying the token
   * @param fromCookies cookies carrying the token
   * @param forward whether the token stays in the request once verified
   * @param forwardPayloadHeader header for the base64url payload; empty: none
   * @param payloadInMetadata key of the payload in the filter's dynamic metadata; empty: none
   * @param claimToHeaders claims copied into request headers
   * @param clockSkewSeconds tolerance for {@code exp}/{@code nbf}
   * @param jwtCache verified tokens kept ({@code jwt_cache_config}); null: none
   */
  record Provider(
      String name,
      String issuer,
      List<String> audiences,
      Jwks jwks,
      List<HeaderLocation> fromHeaders,
      List<String> fromParams,
      List<String> fromCookies,
      boolean forward,
      String forwardPayloadHeader,
      String payloadInMetadata,
      List<ClaimToHeader> claimToHeaders,
      int clockSkewSeconds,
      @Nullable JwtCache jwtCache) {
    Provider {
      audiences = List.copyOf(audiences);
      fromHeaders = List.copyOf(fromHeaders);
      fromParams = List.copyOf(fromParams);
      fromCookies = List.copyOf(fromCookies);
      claimToHeaders = List.copyOf(claimToHeaders);
    }
  }

  /** Where a provider's keys come from. */
  sealed interface Jwks {}

  /** {@code local_jwks}: keys given inline, parsed once. */
  record LocalJwks(JwksKeys keys) implements Jwks {}

  /**
   * {@code remote_jwks}: fetched from {@code uri} through cluster {@code cluster}, kept for {@code
   * cacheDuration}; {@code cache} holds what was fetched (shared by every config naming the same
   * URI and cluster).
   */
  record RemoteJwks(
      String uri, String cluster, Duration timeout, Duration cacheDuration, JwksCache cache)
      implements Jwks {}

  /** {@code from_headers} entry: the token is the value after {@code prefix}. */
  record HeaderLocation(String name, String prefix) {}

  /** {@code claim_to_headers} entry. */
  record ClaimToHeader(String header, String claim) {}

  /** A rule: a path match and the requirement it applies (null: none, every request passes). */
  record Rule(PathMatch match, @Nullable Requirement requirement) {}

  /** The rule's {@code RouteMatch} path part. */
  sealed interface PathMatch {
    boolean matches(String path);
  }

  record Prefix(String prefix, boolean caseSensitive) implements PathMatch {
    @Override
    public boolean matches(String path) {
      return caseSensitive
          ? path.startsWith(prefix)
          : path.regionMatches(true, 0, prefix, 0, prefix.length());
    }
  }

  record ExactPath(String path, boolean caseSensitive) implements PathMatch {
    @Override
    public boolean matches(String p) {
      return caseSensitive ? p.equals(path) : p.equalsIgnoreCase(path);
    }
  }

  record RegexPath(Pattern regex) implements PathMatch {
    @Override
    public boolean matches(String path) {
      return regex.matcher(path).matches();
    }
  }

  /** {@code JwtRequirement}: what a request must present. */
  sealed interface Requirement {}

  /** A valid token of this provider (with {@code audiences} overriding the provider's if set). */
  record ProviderName(Provider provider, List<String> audiences) implements Requirement {}

  /** Any of these. */
  record RequiresAny(List<Requirement> requirements) implements Requirement {}

  /** All of these. */
  record RequiresAll(List<Requirement> requirements) implements Requirement {}

  /** No token passes; a token present must be valid for the provider of its issuer. */
  record AllowMissing() implements Requirement {}

  /** Anything passes; valid tokens still emit their payload. */
  record AllowMissingOrFailed() implements Requirement {}
}
