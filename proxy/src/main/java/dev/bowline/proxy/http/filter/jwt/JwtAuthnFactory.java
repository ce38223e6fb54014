package dev.bowline.proxy.http.filter.jwt;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.nimbusds.jose.jwk.JWKSet;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Factory of {@code envoy.filters.http.jwt_authn}: parses {@code JwtAuthentication} once (bad
 * fields are errors naming them), and keeps one {@link JwksCache} per remote JWKS (URI, cluster,
 * cache duration) for the proxy's life, so a listener update does not refetch keys.
 */
public final class JwtAuthnFactory implements HttpFilterFactory<JwtAuthnConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";

  /** The filter's name, and the namespace of the dynamic metadata it emits. */
  public static final String NAME = "envoy.filters.http.jwt_authn";

  private final Clock clock;
  private final LongSupplier nanos;
  private final Stats stats;
  private final Map<String, JwksCache> caches = new ConcurrentHashMap<>();

  /**
   * A factory reading wall time ({@code exp}/{@code nbf}) from {@code clock}, ages from nanos,
   * whose counters ({@code http.<stat_prefix>.jwt_authn.*}) are in {@code stats}.
   */
  public JwtAuthnFactory(Clock clock, LongSupplier nanos, Stats stats) {
    this.clock = clock;
    this.nanos = nanos;
    this.stats = stats;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return JwtAuthentication.getDescriptor();
  }

  @Override
  public JwtAuthnConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig, FilterContext.NONE);
  }

  @Override
  public JwtAuthnConfig parse(Any typedConfig, FilterContext context)
      throws InvalidProtocolBufferException {
    return config(
        Anys.unpack(typedConfig, JwtAuthentication.getDescriptor(), JwtAuthentication.parser()),
        context.statPrefix());
  }

  @Override
  public HttpFilter create(JwtAuthnConfig config) {
    throw new UnsupportedOperationException("jwt_authn needs its stream");
  }

  @Override
  public HttpFilter create(JwtAuthnConfig config, StreamInfo stream) {
    return new JwtAuthnFilter(config, stream, clock);
  }

  JwtAuthnConfig config(JwtAuthentication p, String scope) {
    Map<String, JwtAuthnConfig.Provider> providers = new TreeMap<>();
    p.getProvidersMap().forEach((name, v) -> providers.put(name, provider(name, v)));
    Map<String, JwtAuthnConfig.Requirement> named = new HashMap<>();
    p.getRequirementMapMap()
        .forEach(
            (name, r) -> named.put(name, requirement(r, providers, "requirement_map." + name)));
    List<JwtAuthnConfig.Rule> rules = new ArrayList<>();
    for (int i = 0; i < p.getRulesCount(); i++) {
      RequirementRule r = p.getRules(i);
      String at = "rules[" + i + "]";
      JwtAuthnConfig.Requirement req = null;
      if (r.hasRequires()) {
        req = requirement(r.getRequires(), providers, at + ".requires");
      } else if (!r.getRequirementName().isEmpty()) {
        req = named.get(r.getRequirementName());
        if (req == null) {
          throw new IllegalArgumentException(
              at
                  + ".requirement_name: \""
                  + r.getRequirementName()
                  + "\" is not in requirement_map");
        }
      }
      rules.add(new JwtAuthnConfig.Rule(match(r.getMatch(), at + ".match"), req));
    }
    return new JwtAuthnConfig(
        providers, rules, named, p.getBypassCorsPreflight(), JwtAuthnStats.create(stats, scope));
  }

  private static JwtAuthnConfig.PathMatch match(RouteMatch m, String at) {
    boolean cs = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    return switch (m.getPathSpecifierCase()) {
      case PREFIX -> new JwtAuthnConfig.Prefix(m.getPrefix(), cs);
      case PATH -> new JwtAuthnConfig.ExactPath(m.getPath(), cs);
      case SAFE_REGEX -> {
        try {
          yield new JwtAuthnConfig.RegexPath(Pattern.compile(m.getSafeRegex().getRegex()));
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException(at + ".safe_regex: " + e.getDescription());
        }
      }
      case PATHSPECIFIER_NOT_SET -> new JwtAuthnConfig.Prefix("", true);
      default ->
          throw new IllegalArgumentException(
              at + ": path match " + m.getPathSpecifierCase() + " is not supported");
    };
  }

  private static JwtAuthnConfig.Requirement requirement(
      JwtRequirement r, Map<String, JwtAuthnConfig.Provider> providers, String at) {
    return switch (r.getRequiresTypeCase()) {
      case PROVIDER_NAME ->
          new JwtAuthnConfig.ProviderName(
              provider(providers, r.getProviderName(), at + ".provider_name"), List.of());
      case PROVIDER_AND_AUDIENCES ->
          new JwtAuthnConfig.ProviderName(
              provider(
                  providers,
                  r.getProviderAndAudiences().getProviderName(),
                  at + ".provider_and_audiences.provider_name"),
              r.getProviderAndAudiences().getAudiencesList());
      case REQUIRES_ANY -> {
        List<JwtAuthnConfig.Requirement> all = new ArrayList<>();
        for (int i = 0; i < r.getRequiresAny().getRequirementsCount(); i++) {
          all.add(
              requirement(
                  r.getRequiresAny().getRequirements(i),
                  providers,
                  at + ".requires_any.requirements[" + i + "]"));
        }
        yield new JwtAuthnConfig.RequiresAny(all);
      }
      case REQUIRES_ALL -> {
        List<JwtAuthnConfig.Requirement> all = new ArrayList<>();
        for (int i = 0; i < r.getRequiresAll().getRequirementsCount(); i++) {
          all.add(
              requirement(
                  r.getRequiresAll().getRequirements(i),
                  providers,
                  at + ".requires_all.requirements[" + i + "]"));
        }
        yield new JwtAuthnConfig.RequiresAll(all);
      }
      case ALLOW_MISSING -> new JwtAuthnConfig.AllowMissing();
      case ALLOW_MISSING_OR_FAILED -> new JwtAuthnConfig.AllowMissingOrFailed();
      case REQUIRESTYPE_NOT_SET -> new JwtAuthnConfig.AllowMissingOrFailed();
    };
  }

  private static JwtAuthnConfig.Provider provider(
      Map<String, JwtAuthnConfig.Provider> providers, String name, String at) {
    JwtAuthnConfig.Provider p = providers.get(name);
    if (p == null) {
      throw new IllegalArgumentException(at + ": provider \"" + name + "\" is not configured");
    }
    return p;
  }

  private JwtAuthnConfig.Provider provider(String name, JwtProvider p) {
    String at = "providers." + name;
    JwtAuthnConfig.Jwks jwks =
        switch (p.getJwksSourceSpecifierCase()) {
          case LOCAL_JWKS -> {
            var ds = p.getLocalJwks();
            String json =
                switch (ds.getSpecifierCase()) {
                  case INLINE_STRING -> ds.getInlineString();
                  case INLINE_BYTES -> ds.getInlineBytes().toString(StandardCharsets.UTF_8);
                  default ->
                      throw new IllegalArgumentException(
                          at + ".local_jwks: only inline_string and inline_bytes are supported");
                };
            if (!JwtVerifier.shallow(json)) {
              throw new IllegalArgumentException(at + ".local_jwks: JSON nested too deep");
            }
            try {
              yield new JwtAuthnConfig.LocalJwks(JwksKeys.of(JWKSet.parse(json).toPublicJWKSet()));
            } catch (java.text.ParseException e) {
              throw new IllegalArgumentException(
                  at + ".local_jwks: not a JSON Web Key Set: " + e.getMessage());
            }
          }
          case REMOTE_JWKS -> {
            var r = p.getRemoteJwks();
            String uri = r.getHttpUri().getUri();
            String cluster = r.getHttpUri().getCluster();
            try {
              URI u = new URI(uri);
              if (u.getRawAuthority() == null
                  || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
                throw new IllegalArgumentException(
                    at + ".remote_jwks.http_uri.uri: \"" + uri + "\" is not an http(s) URL");
              }
            } catch (java.net.URISyntaxException e) {
              throw new IllegalArgumentException(
                  at + ".remote_jwks.http_uri.uri: \"" + uri + "\" is not a URL");
            }
            if (cluster.isEmpty()) {
              throw new IllegalArgumentException(
                  at + ".remote_jwks.http_uri.cluster: a cluster is required");
            }
            Duration timeout =
                r.getHttpUri().hasTimeout()
                    ? Duration.ofSeconds(
                        r.getHttpUri().getTimeout().getSeconds(),
                        r.getHttpUri().getTimeout().getNanos())
                    : Duration.ofSeconds(1);
            Duration cache =
                r.hasCacheDuration()
                    ? Duration.ofSeconds(
                        r.getCacheDuration().getSeconds(), r.getCacheDuration().getNanos())
                    : Duration.ofMinutes(5);
            JwksCache c =
                caches.computeIfAbsent(
                    uri + " " + cluster + " " + cache + " " + timeout,
                    k -> new JwksCache(uri, cluster, timeout, cache, nanos));
            yield new JwtAuthnConfig.RemoteJwks(uri, cluster, timeout, cache, c);
          }
          case JWKSSOURCESPECIFIER_NOT_SET ->
              throw new IllegalArgumentException(at + ": remote_jwks or local_jwks is required");
        };
    List<JwtAuthnConfig.HeaderLocation> headers = new ArrayList<>();
    for (int i = 0; i < p.getFromHeadersCount(); i++) {
      var h = p.getFromHeaders(i);
      if (h.getName().isEmpty()) {
        throw new IllegalArgumentException(at + ".from_headers[" + i + "].name: required");
      }
      headers.add(new JwtAuthnConfig.HeaderLocation(h.getName(), h.getValuePrefix()));
    }
    List<String> params = new ArrayList<>(p.getFromParamsList());
    if (headers.isEmpty() && params.isEmpty() && p.getFromCookiesCount() == 0) {
      // Envoy's default locations
      headers.add(new JwtAuthnConfig.HeaderLocation("authorization", "Bearer "));
      params.add("access_token");
    }
    List<JwtAuthnConfig.ClaimToHeader> claims = new ArrayList<>();
    for (int i = 0; i < p.getClaimToHeadersCount(); i++) {
      var c = p.getClaimToHeaders(i);
      if (c.getHeaderName().isEmpty() || c.getClaimName().isEmpty()) {
        throw new IllegalArgumentException(
            at + ".claim_to_headers[" + i + "]: header_name and claim_name are required");
      }
      claims.add(new JwtAuthnConfig.ClaimToHeader(c.getHeaderName(), c.getClaimName()));
    }
    return new JwtAuthnConfig.Provider(
        name,
        p.getIssuer(),
        p.getAudiencesList(),
        jwks,
        headers,
        params,
        p.getFromCookiesList(),
        p.getForward(),
        p.getForwardPayloadHeader(),
        p.getPayloadInMetadata(),
        claims,
        p.getClockSkewSeconds() == 0
            ? JwtAuthnConfig.DEFAULT_CLOCK_SKEW_SECONDS
            : p.getClockSkewSeconds(),
        p.hasJwtCacheConfig()
            ? new JwtCache(
                p.getJwtCacheConfig().getJwtCacheSize() == 0
                    ? JwtCache.DEFAULT_SIZE
                    : p.getJwtCacheConfig().getJwtCacheSize(),
                p.getJwtCacheConfig().getJwtMaxTokenSize())
            : null);
  }
}
