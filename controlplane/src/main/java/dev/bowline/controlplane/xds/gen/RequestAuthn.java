package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Empty;
import dev.bowline.api.Resource;
import dev.bowline.api.model.RequestAuthentication;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.protos.IstioAuthnProto;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * RequestAuthentication as istiod 1.16 turns it into HTTP filters ({@code authn/v1beta1
 * policy_applier.go}): the JWT rules of every policy selecting the workload, sorted by issuer,
 * become providers {@code origins-<i>} of one {@code envoy.filters.http.jwt_authn} with a single
 * rule on {@code /}: a token, if present, must be valid ({@code requires_any} of each provider and
 * {@code allow_missing}; with several providers, any one of them or all of those AND-ed); a missing
 * token passes (AuthorizationPolicy may then deny). It is followed by {@code istio_authn}, which
 * turns the payloads into {@code request.auth.*}.
 *
 * <p>{@code jwksUri} becomes {@code remote_jwks} through {@code outbound|port||host} (istiod's
 * PILOT_JWT_ENABLE_REMOTE_JWKS mode, so every sidecar fetches and refreshes keys itself); when the
 * host is no service of the registry, that cluster is generated here (DNS or static, TLS with SNI
 * for https), where istiod would have named a cluster that does not exist. Inline {@code jwks} is
 * {@code local_jwks}.
 */
final class RequestAuthn {
  static final String JWT_AUTHN = "envoy.filters.http.jwt_authn";
  static final String ISTIO_AUTHN = "istio_authn";

  /** Annotation (Bowline's, not Istio's) setting the JWKS {@code cache_duration}; default 5 m. */
  static final String CACHE_ANNOTATION = "bowline.dev/jwks-cache-duration";

  private static final Duration DEFAULT_CACHE = Duration.ofMinutes(5);
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  private static final com.google.protobuf.Duration CONNECT_TIMEOUT =
      com.google.protobuf.Duration.newBuilder().setSeconds(10).build();

  private RequestAuthn() {}

  /** A JWT rule with the policy it came from. */
  private record Rule(Resource<RequestAuthentication> policy, RequestAuthentication.JWTRule rule) {}

  private static List<Rule> rules(Proxy proxy, PushContext push) {
    List<Rule> out = new ArrayList<>();
    for (var ra :
        push.config().requestAuthentications().forWorkload(proxy.namespace(), proxy.labels())) {
      for (var r : ra.spec().jwtRules()) {
        if (r.issuer() != null && !r.issuer().isEmpty()) {
          out.add(new Rule(ra, r));
        }
      }
    }
    out.sort(Comparator.comparing(r -> r.rule().issuer())); // istiod sorts by issuer (stable)
    return out;
  }

  /** {@code jwt_authn} and {@code istio_authn} for {@code proxy}; empty when no policy applies. */
  static List<HttpFilter> filters(Proxy proxy, PushContext push) {
    List<Rule> rules = rules(proxy, push);
    if (rules.isEmpty()) {
      return List.of();
    }
    return List.of(
        HttpFilter.newBuilder()
            .setName(JWT_AUTHN)
            .setTypedConfig(Any.pack(jwtAuthn(rules, push)))
            .build(),
        HttpFilter.newBuilder().setName(ISTIO_AUTHN).setTypedConfig(istioAuthn(rules)).build());
  }

  private static JwtAuthentication jwtAuthn(List<Rule> rules, PushContext push) {
    JwtAuthentication.Builder out = JwtAuthentication.newBuilder().setBypassCorsPreflight(true);
    List<JwtRequirement> innerAnd = new ArrayList<>();
    List<JwtRequirement> outerOr = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      String name = "origins-" + i;
      out.putProviders(name, provider(rules.get(i), push));
      JwtRequirement byName = JwtRequirement.newBuilder().setProviderName(name).build();
      innerAnd.add(
          JwtRequirement.newBuilder()
              .setRequiresAny(
                  JwtRequirementOrList.newBuilder()
                      .addRequirements(byName)
                      .addRequirements(
                          JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
              .build());
      outerOr.add(byName);
    }
    JwtRequirement requires;
    if (innerAnd.size() == 1) {
      requires = innerAnd.getFirst();
    } else {
      outerOr.add(
          JwtRequirement.newBuilder()
              .setRequiresAll(JwtRequirementAndList.newBuilder().addAllRequirements(innerAnd))
              .build());
      requires =
          JwtRequirement.newBuilder()
              .setRequiresAny(JwtRequirementOrList.newBuilder().addAllRequirements(outerOr))
              .build();
    }
    return out.addRules(
            RequirementRule.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRequires(requires))
        .build();
  }

  private static JwtProvider provider(Rule rule, PushContext push) {
    RequestAuthentication.JWTRule r = rule.rule();
    JwtProvider.Builder p =
        JwtProvider.newBuilder()
            .setIssuer(r.issuer())
            .addAllAudiences(r.audiences())
            .setForward(Boolean.TRUE.equals(r.forwardOriginalToken()))
            .setPayloadInMetadata(r.issuer());
    if (r.outputPayloadToHeader() != null) {
      p.setForwardPayloadHeader(r.outputPayloadToHeader());
    }
    for (var c : r.outputClaimToHeaders()) {
      p.addClaimToHeaders(
          JwtClaimToHeader.newBuilder()
              .setHeaderName(java.util.Objects.requireNonNullElse(c.header(), ""))
              .setClaimName(java.util.Objects.requireNonNullElse(c.claim(), "")));
    }
    for (var h : r.fromHeaders()) {
      JwtHeader.Builder jh = JwtHeader.newBuilder().setName(h.name() == null ? "" : h.name());
      if (h.prefix() != null) {
        jh.setValuePrefix(h.prefix());
      }
      p.addFromHeaders(jh);
    }
    p.addAllFromParams(r.fromParams());
    p.addAllFromCookies(r.fromCookies());
    if (r.jwks() != null && !r.jwks().isEmpty()) {
      p.setLocalJwks(DataSource.newBuilder().setInlineString(r.jwks()));
    } else if (r.jwksUri() != null && !r.jwksUri().isEmpty()) {
      URI uri = URI.create(r.jwksUri());
      Duration timeout = r.timeout() == null ? DEFAULT_TIMEOUT : r.timeout();
      p.setRemoteJwks(
          RemoteJwks.newBuilder()
              .setHttpUri(
                  HttpUri.newBuilder()
                      .setUri(r.jwksUri())
                      .setCluster(ClusterName.outbound(port(uri), "", uri.getHost()))
                      .setTimeout(proto(timeout)))
              .setCacheDuration(proto(cacheDuration(rule.policy()))));
    } else {
      // istiod fetches the keys itself here and inlines them; with neither, no key verifies
      p.setLocalJwks(DataSource.newBuilder().setInlineString("{\"keys\":[]}"));
    }
    return p.build();
  }

  private static Duration cacheDuration(Resource<RequestAuthentication> policy) {
    String v = policy.annotations().get(CACHE_ANNOTATION);
    if (v == null) {
      return DEFAULT_CACHE;
    }
    try {
      Duration d = parseDuration(v.strip());
      return d.isZero() || d.isNegative() ? DEFAULT_CACHE : d;
    } catch (RuntimeException e) {
      return DEFAULT_CACHE;
    }
  }

  /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
  private static Duration parseDuration(String v) {
    var m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(v);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  private static int port(URI uri) {
    if (uri.getPort() > 0) {
      return uri.getPort();
    }
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  /** istiod 1.16's istio_authn config: origins by issuer, optional, principal from the origin. */
  private static Any istioAuthn(List<Rule> rules) {
    Descriptor config = IstioAuthnProto.descriptor();
    FieldDescriptor policyField = config.findFieldByName("policy");
    Descriptor policyType = policyField.getMessageType();
    FieldDescriptor origins = policyType.findFieldByName("origins");
    Descriptor originType = origins.getMessageType();
    FieldDescriptor jwtField = originType.findFieldByName("jwt");
    DynamicMessage.Builder policy = DynamicMessage.newBuilder(policyType);
    for (Rule r : rules) {
      DynamicMessage jwt =
          DynamicMessage.newBuilder(jwtField.getMessageType())
              .setField(jwtField.getMessageType().findFieldByName("issuer"), r.rule().issuer())
              .build();
      policy.addRepeatedField(
          origins, DynamicMessage.newBuilder(originType).setField(jwtField, jwt).build());
    }
    FieldDescriptor binding = policyType.findFieldByName("principal_binding");
    policy
        .setField(policyType.findFieldByName("origin_is_optional"), true)
        .setField(binding, binding.getEnumType().findValueByName("USE_ORIGIN"));
    DynamicMessage msg =
        DynamicMessage.newBuilder(config)
            .setField(policyField, policy.build())
            .setField(config.findFieldByName("skip_validate_trust_domain"), true)
            .build();
    return Any.newBuilder()
        .setTypeUrl("type.googleapis.com/" + config.getFullName())
        .setValue(msg.toByteString())
        .build();
  }

  /**
   * The JWKS clusters {@code proxy}'s providers name that the registry does not serve: one per
   * {@code jwksUri} host and port, STATIC for an IP, STRICT_DNS for a name, TLS (SNI = host) for
   * https.
   */
  static Map<String, Cluster> jwksClusters(Proxy proxy, PushContext push) {
    Map<String, Cluster> out = new TreeMap<>();
    for (Rule rule : rules(proxy, push)) {
      String u = rule.rule().jwksUri();
      if (u == null
          || u.isEmpty()
          || (rule.rule().jwks() != null && !rule.rule().jwks().isEmpty())) {
        continue;
      }
      URI uri = URI.create(u);
      String host = uri.getHost();
      int port = port(uri);
      Optional<Service> known = push.registry().service(host);
      if (known.isPresent() && known.get().port(port).isPresent()) {
        continue; // the service's own outbound cluster
      }
      String name = ClusterName.outbound(port, "", host);
      boolean ip = isIp(host);
      Cluster.Builder c =
          Cluster.newBuilder()
              .setName(name)
              .setConnectTimeout(CONNECT_TIMEOUT)
              .setType(ip ? Cluster.DiscoveryType.STATIC : Cluster.DiscoveryType.STRICT_DNS)
              .setLoadAssignment(ClusterGenerator.oneEndpoint(name, host, port));
      if (!ip) {
        // as the service clusters: Envoy's default (AUTO) would take a name's IPv6 addresses only
        c.setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY);
      }
      if ("https".equals(uri.getScheme())) {
        c.setTransportSocket(
            TransportSocket.newBuilder()
                .setName(Security.TLS_SOCKET)
                .setTypedConfig(Any.pack(UpstreamTlsContext.newBuilder().setSni(host).build())));
      }
      out.putIfAbsent(name, c.build());
    }
    return out;
  }

  private static boolean isIp(String host) {
    try {
      java.net.InetAddress.ofLiteral(host);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
