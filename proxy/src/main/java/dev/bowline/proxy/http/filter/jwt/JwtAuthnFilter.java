package dev.bowline.proxy.http.filter.jwt;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One stream's JWT check: finds the requirement of the first rule matching the path, extracts the
 * tokens from the providers' locations, verifies each (provider, token) once, and either lets the
 * request on (emitting payloads, headers) or answers with Envoy's 401/403. When a remote JWKS has
 * no keys yet, it starts the fetch, returns STOP_ITERATION and resumes on the stream's loop.
 */
final class JwtAuthnFilter implements HttpFilter {
  private final JwtAuthnConfig config;
  private final StreamInfo info;
  private final Clock clock;
  private @Nullable JwtStatus failure;
  private String realm = "";
  private final Map<Check, JwtStatus> results = new HashMap<>();
  private final Map<Check, JwtVerifier.Parsed> verified = new LinkedHashMap<>();

  /** One (provider, token) verification; audiences from the requirement or the provider. */
  private record Check(JwtAuthnConfig.Provider provider, Token token, List<String> audiences) {}

  /** A token and where it was found (a header name, or null for a parameter or cookie). */
  private record Token(String value, @Nullable String header) {}

  JwtAuthnFilter(JwtAuthnConfig config, StreamInfo info, Clock clock) {
    this.config = config;
    this.info = info;
    this.clock = clock;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    HttpHeaders h = request.headers();
    // Headers the filter writes must come from it, never from the client.
    for (JwtAuthnConfig.Provider p : config.providers().values()) {
      if (!p.forwardPayloadHeader().isEmpty()) {
        h.remove(p.forwardPayloadHeader());
      }
      for (JwtAuthnConfig.ClaimToHeader c : p.claimToHeaders()) {
        h.remove(c.header());
      }
    }
    if (config.bypassCorsPreflight()
        && request.method().equals(HttpMethod.OPTIONS)
        && h.contains(HttpHeaderNames.ORIGIN)
        && h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
      config.stats().corsPreflightBypassed().inc();
      config.stats().allowed().inc(); // Envoy completes a bypassed preflight as Ok
      return FilterStatus.CONTINUE;
    }
    String uri = request.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    JwtAuthnConfig.Requirement requirement = null;
    boolean matched = false;
    for (JwtAuthnConfig.Rule r : config.rules()) {
      if (r.match().matches(path)) {
        requirement = r.requirement();
        matched = true;
        break;
      }
    }
    if (!matched || requirement == null) {
      config.stats().allowed().inc(); // Envoy: no verifier completes as Ok
      return FilterStatus.CONTINUE;
    }
    realm = h.get("x-forwarded-proto", "http") + "://" + h.get(HttpHeaderNames.HOST, "") + uri;
    // Keys first: a remote JWKS without keys is fetched before anything is decided.
    List<CompletableFuture<Void>> waits = new ArrayList<>(1);
    for (JwtAuthnConfig.Provider p : providersOf(requirement, new LinkedHashSet<>())) {
      if (!(p.jwks() instanceof JwtAuthnConfig.RemoteJwks remote)) {
        continue;
      }
      JwksCache cache = remote.cache();
      if (cache.keys() == null) {
        if (cache.worthWaiting() && anyTokenWorthKeys(p, request)) {
          waits.add(cache.fetch(stream, config.stats()));
        }
      } else if (cache.stale()) {
        cache.fetch(
            stream, config.stats()); // refresh in the background; the current keys serve meanwhile
      }
    }
    if (waits.isEmpty()) {
      return decide(requirement, request, stream);
    }
    final JwtAuthnConfig.Requirement req = requirement;
    CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
        .whenComplete(
            (v, e) ->
                stream
                    .executor()
                    .execute(
                        () -> {
                          if (!stream.done()
                              && decide(req, request, stream) == FilterStatus.CONTINUE) {
                            stream.continueDecoding();
                          }
                        }));
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    JwtStatus f = failure;
    if (f != null) {
      response
          .headers()
          .set(
              HttpHeaderNames.WWW_AUTHENTICATE,
              f == JwtStatus.JWT_MISSED
                  ? "Bearer realm=\"" + realm + "\""
                  : "Bearer realm=\"" + realm + "\", error=\"invalid_token\"");
    }
  }

  private FilterStatus decide(
      JwtAuthnConfig.Requirement requirement, HttpRequest request, StreamContext stream) {
    JwtStatus s = evaluate(requirement, request);
    if (s != JwtStatus.OK) {
      failure = s;
      config.stats().denied().inc();
      stream.sendLocalReply(
          s.httpStatus(),
          s.text(),
          null,
          "jwt_authn_access_denied{" + s.text().replace(' ', '_') + "}");
      return FilterStatus.STOP_ITERATION;
    }
    Struct.Builder metadata = Struct.newBuilder();
    for (Map.Entry<Check, JwtVerifier.Parsed> e : verified.entrySet()) {
      JwtAuthnConfig.Provider p = e.getKey().provider();
      JwtVerifier.Parsed t = e.getValue();
      HttpHeaders h = request.headers();
      if (!p.payloadInMetadata().isEmpty()) {
        metadata.putFields(
            p.payloadInMetadata(), Value.newBuilder().setStructValue(struct(t.payload())).build());
      }
      if (!p.forwardPayloadHeader().isEmpty()) {
        h.set(p.forwardPayloadHeader(), t.payloadPart());
      }
      for (JwtAuthnConfig.ClaimToHeader c : p.claimToHeaders()) {
        String v = claimText(t.payload(), c.claim());
        if (v != null) {
          h.set(c.header(), v);
        }
      }
      String header = e.getKey().token().header();
      if (!p.forward() && header != null) {
        h.remove(header);
      }
    }
    if (metadata.getFieldsCount() > 0) {
      info.setDynamicMetadata(JwtAuthnFactory.NAME, metadata.build());
    }
    config.stats().allowed().inc();
    return FilterStatus.CONTINUE;
  }

  /** Envoy's verifier tree, evaluated over the tokens this request carries. */
  private JwtStatus evaluate(JwtAuthnConfig.Requirement r, HttpRequest request) {
    return switch (r) {
      case JwtAuthnConfig.ProviderName pn -> {
        List<Token> tokens = tokens(pn.provider(), request);
        if (tokens.isEmpty()) {
          yield JwtStatus.JWT_MISSED;
        }
        List<String> auds = pn.audiences().isEmpty() ? pn.provider().audiences() : pn.audiences();
        for (Token t : tokens) {
          JwtStatus s = check(new Check(pn.provider(), t, auds));
          if (s != JwtStatus.OK) {
            yield s;
          }
        }
        yield JwtStatus.OK;
      }
      case JwtAuthnConfig.RequiresAll all -> {
        for (JwtAuthnConfig.Requirement c : all.requirements()) {
          JwtStatus s = evaluate(c, request);
          if (s != JwtStatus.OK) {
            yield s;
          }
        }
        yield JwtStatus.OK;
      }
      case JwtAuthnConfig.RequiresAny any -> {
        boolean allowMissing = false;
        boolean allowFailed = false;
        List<JwtAuthnConfig.Requirement> children = new ArrayList<>();
        for (JwtAuthnConfig.Requirement c : any.requirements()) {
          switch (c) {
            case JwtAuthnConfig.AllowMissing m -> allowMissing = true;
            case JwtAuthnConfig.AllowMissingOrFailed m -> allowFailed = true;
            default -> children.add(c);
          }
        }
        if (children.isEmpty() && (allowFailed || allowMissing)) {
          yield evaluate(
              allowFailed
                  ? new JwtAuthnConfig.AllowMissingOrFailed()
                  : new JwtAuthnConfig.AllowMissing(),
              request);
        }
        JwtStatus last = JwtStatus.JWT_MISSED;
        for (JwtAuthnConfig.Requirement c : children) {
          JwtStatus s = evaluate(c, request);
          if (s == JwtStatus.OK) {
            yield JwtStatus.OK;
          }
          // Envoy prefers real errors, then JwtUnknownIssuer, then JwtMissed.
          if ((s != JwtStatus.JWT_MISSED && s != JwtStatus.JWT_UNKNOWN_ISSUER)
              || last == JwtStatus.JWT_MISSED) {
            last = s;
          }
        }
        if (allowFailed || (allowMissing && last == JwtStatus.JWT_MISSED)) {
          yield JwtStatus.OK;
        }
        yield last;
      }
      case JwtAuthnConfig.AllowMissing m -> anyProvider(request, false);
      case JwtAuthnConfig.AllowMissingOrFailed m -> anyProvider(request, true);
    };
  }

  /** Tokens of every provider, each checked by the providers of its issuer. */
  private JwtStatus anyProvider(HttpRequest request, boolean allowFailed) {
    JwtStatus result = JwtStatus.OK;
    for (JwtAuthnConfig.Provider p : config.providers().values()) {
      for (Token t : tokens(p, request)) {
        JwtStatus s = check(new Check(p, t, p.audiences()));
        if (s != JwtStatus.OK && s != JwtStatus.JWT_UNKNOWN_ISSUER && result == JwtStatus.OK) {
          result = s;
        }
      }
    }
    return allowFailed ? JwtStatus.OK : result;
  }

  private JwtStatus check(Check c) {
    JwtStatus s = results.get(c);
    if (s == null) {
      s = verify(c);
      results.put(c, s);
    }
    return s;
  }

  private JwtStatus verify(Check c) {
    JwtAuthnConfig.Provider p = c.provider();
    JwtCache jwtCache = p.jwtCache();
    JwtVerifier.Parsed t = null;
    if (jwtCache != null) {
      t = jwtCache.lookup(c.token().value());
      if (t != null) {
        // its signature verified before; everything else is checked again
        config.stats().jwtCacheHit().inc();
        JwtStatus s = claimsOk(c, t);
        if (s == JwtStatus.OK) {
          verified.put(c, t);
        }
        return s;
      }
      config.stats().jwtCacheMiss().inc();
    }
    JwtVerifier.ParseResult pr = JwtVerifier.parse(c.token().value());
    t = pr.token();
    if (t == null) {
      return pr.status();
    }
    JwtStatus s = claimsOk(c, t);
    if (s != JwtStatus.OK) {
      return s;
    }
    JwksKeys keys =
        switch (p.jwks()) {
          case JwtAuthnConfig.LocalJwks l -> l.keys();
          case JwtAuthnConfig.RemoteJwks r -> r.cache().keys();
        };
    if (keys == null) {
      return JwtStatus.JWKS_FETCH_FAIL;
    }
    s = JwtVerifier.checkSignature(t, keys);
    if (s == JwtStatus.OK) {
      verified.put(c, t);
      if (jwtCache != null) {
        jwtCache.put(c.token().value(), t);
      }
    }
    return s;
  }

  /** Issuer, time and audiences of {@code t} for {@code c}. */
  private JwtStatus claimsOk(Check c, JwtVerifier.Parsed t) {
    JwtAuthnConfig.Provider p = c.provider();
    if (!p.issuer().isEmpty() && !p.issuer().equals(t.issuer())) {
      return JwtStatus.JWT_UNKNOWN_ISSUER;
    }
    JwtStatus s = JwtVerifier.checkTime(t, clock.millis() / 1000, p.clockSkewSeconds());
    if (s != JwtStatus.OK) {
      return s;
    }
    if (!JwtVerifier.audienceAllowed(t, c.audiences())) {
      return JwtStatus.JWT_AUDIENCE_NOT_ALLOWED;
    }
    return JwtStatus.OK;
  }

  /** Whether a token for {@code p} passes the checks that need no keys (so keys are worth it). */
  private boolean anyTokenWorthKeys(JwtAuthnConfig.Provider p, HttpRequest request) {
    for (Token t : tokens(p, request)) {
      JwtVerifier.Parsed parsed = JwtVerifier.parse(t.value()).token();
      if (parsed != null
          && (p.issuer().isEmpty() || p.issuer().equals(parsed.issuer()))
          && JwtVerifier.checkTime(parsed, clock.millis() / 1000, p.clockSkewSeconds())
              == JwtStatus.OK) {
        return true;
      }
    }
    return false;
  }

  private Set<JwtAuthnConfig.Provider> providersOf(
      JwtAuthnConfig.Requirement r, Set<JwtAuthnConfig.Provider> out) {
    switch (r) {
      case JwtAuthnConfig.ProviderName pn -> out.add(pn.provider());
      case JwtAuthnConfig.RequiresAll all -> all.requirements().forEach(c -> providersOf(c, out));
      case JwtAuthnConfig.RequiresAny any -> any.requirements().forEach(c -> providersOf(c, out));
      case JwtAuthnConfig.AllowMissing m -> out.addAll(config.providers().values());
      case JwtAuthnConfig.AllowMissingOrFailed m -> out.addAll(config.providers().values());
    }
    return out;
  }

  /** The tokens in {@code p}'s locations: headers (after their prefix), parameters, cookies. */
  private static List<Token> tokens(JwtAuthnConfig.Provider p, HttpRequest request) {
    List<Token> out = new ArrayList<>(1);
    HttpHeaders h = request.headers();
    for (JwtAuthnConfig.HeaderLocation loc : p.fromHeaders()) {
      for (String v : h.getAll(loc.name())) {
        String prefix = loc.prefix();
        if (prefix.isEmpty()) {
          out.add(new Token(v.strip(), loc.name()));
        } else if (v.regionMatches(true, 0, prefix, 0, prefix.length())) {
          out.add(new Token(v.substring(prefix.length()).strip(), loc.name()));
        }
      }
    }
    if (!p.fromParams().isEmpty() && request.uri().indexOf('?') >= 0) {
      Map<String, List<String>> params;
      try {
        params = new QueryStringDecoder(request.uri()).parameters();
      } catch (IllegalArgumentException malformed) {
        params = Map.of(); // a malformed escape (k%v): no token from the parameters
      }
      for (String name : p.fromParams()) {
        for (String v : params.getOrDefault(name, List.of())) {
          out.add(new Token(v, null));
        }
      }
    }
    if (!p.fromCookies().isEmpty()) {
      for (String header : h.getAll(HttpHeaderNames.COOKIE)) {
        for (Cookie c : ServerCookieDecoder.LAX.decodeAll(header)) {
          if (p.fromCookies().contains(c.name())) {
            out.add(new Token(c.value(), null));
          }
        }
      }
    }
    return out;
  }

  /** A claim as a header value: strings as they are, numbers and booleans printed, lists joined. */
  private static @Nullable String claimText(Map<String, Object> payload, String claim) {
    Object v = payload;
    for (String part : claim.split("\\.")) {
      if (!(v instanceof Map<?, ?> m)) {
        return null;
      }
      v = m.get(part);
    }
    if (v instanceof String || v instanceof Boolean) {
      return v.toString();
    }
    if (v instanceof Number n) {
      return n.doubleValue() == Math.rint(n.doubleValue())
          ? Long.toString(n.longValue())
          : n.toString();
    }
    if (v instanceof List<?> l) {
      List<String> parts = new ArrayList<>();
      for (Object o : l) {
        if (o instanceof String s) {
          parts.add(s);
        }
      }
      return parts.isEmpty() ? null : String.join(",", parts);
    }
    return null;
  }

  /** The payload as a protobuf Struct (Envoy emits it that way). */
  static Struct struct(Map<String, Object> map) {
    Struct.Builder b = Struct.newBuilder();
    map.forEach((k, v) -> b.putFields(k, value(v)));
    return b.build();
  }

  @SuppressWarnings("unchecked")
  private static Value value(@Nullable Object o) {
    return switch (o) {
      case null -> Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
      case String s -> Value.newBuilder().setStringValue(s).build();
      case Boolean bo -> Value.newBuilder().setBoolValue(bo).build();
      case Number n -> Value.newBuilder().setNumberValue(n.doubleValue()).build();
      case Map<?, ?> m ->
          Value.newBuilder().setStructValue(struct((Map<String, Object>) m)).build();
      case List<?> l -> {
        ListValue.Builder lb = ListValue.newBuilder();
        l.forEach(x -> lb.addValues(value(x)));
        yield Value.newBuilder().setListValue(lb).build();
      }
      default -> Value.newBuilder().setStringValue(o.toString()).build();
    };
  }
}
