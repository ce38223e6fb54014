package dev.bowline.controlplane.xds.gen.authz;

import com.google.protobuf.Duration;
import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationRequest;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationResponse;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * MeshConfig's {@code envoyExtAuthzHttp} and {@code envoyExtAuthzGrpc} providers turned into
 * Envoy's ext_authz filter configs, as istiod 1.16 does ({@code processExtensionProvider}): the
 * service resolved to {@code outbound|port||host}, a 600 s timeout unless set, the filter enabled
 * only for requests whose CUSTOM shadow RBAC matched (dynamic metadata {@code
 * istio_ext_authz_shadow_effective_policy_id} starting with {@code istio-ext-authz}). A provider
 * that cannot be used keeps its errors, so a CUSTOM policy naming it fails closed.
 */
final class ExtAuthzProviders {
  /** The prefix of CUSTOM policy names, which the ext_authz filters match on. */
  static final String MATCH_PREFIX = "istio-ext-authz";

  /** The shadow rules stat prefix of the CUSTOM RBAC filter (and of its metadata keys). */
  static final String SHADOW_PREFIX = "istio_ext_authz_";

  /** istiod's timeout of a check when the provider sets none. */
  static final Duration DEFAULT_TIMEOUT = Duration.newBuilder().setSeconds(600).build();

  private ExtAuthzProviders() {}

  /** One provider: usable, or why not. */
  sealed interface Resolved {}

  /**
   * A usable provider.
   *
   * @param http the HTTP filter's config
   * @param tcp the network filter's config; null for an HTTP provider (none on TCP chains)
   */
  record Built(
      ExtAuthz http,
      io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.@Nullable ExtAuthz tcp)
      implements Resolved {}

  /** A provider that cannot be used, with every reason. */
  record Bad(List<String> errors) implements Resolved {
    Bad {
      errors = List.copyOf(errors);
    }
  }

  /** The ext_authz providers of {@code mesh} by name, resolved against {@code registry}. */
  static Map<String, Resolved> resolve(MeshConfig mesh, RegistrySnapshot registry) {
    Map<String, Resolved> out = new LinkedHashMap<>();
    List<ExtensionProvider> providers = mesh.extensionProviders();
    for (int i = 0; i < providers.size(); i++) {
      ExtensionProvider p = providers.get(i);
      if (p.envoyExtAuthzHttp() == null && p.envoyExtAuthzGrpc() == null) {
        continue;
      }
      String at = "extensionProviders[" + i + "]";
      List<String> errors = new ArrayList<>();
      String name = p.name() == null ? "" : p.name();
      if (name.isEmpty()) {
        errors.add(at + ".name: must not be empty");
      } else if (out.containsKey(name)) {
        errors.add(at + ".name: must be unique, found duplicate \"" + name + "\"");
      }
      Resolved r =
          p.envoyExtAuthzHttp() != null
              ? http(p.envoyExtAuthzHttp(), registry, at + ".envoyExtAuthzHttp", errors)
              : grpc(
                  java.util.Objects.requireNonNull(p.envoyExtAuthzGrpc()),
                  registry,
                  at + ".envoyExtAuthzGrpc",
                  errors);
      out.putIfAbsent(name, errors.isEmpty() ? r : new Bad(errors));
    }
    return out;
  }

  private static Resolved http(
      ExtensionProvider.ExtAuthzHttp h, RegistrySnapshot registry, String at, List<String> errors) {
    String[] hostCluster = lookup(registry, h.service(), h.port(), at, errors);
    HttpStatus status = status(h.statusOnError(), at, errors);
    if (h.pathPrefix() != null && !h.pathPrefix().isEmpty() && !h.pathPrefix().startsWith("/")) {
      errors.add(at + ".pathPrefix: must begin with /, found \"" + h.pathPrefix() + "\"");
    }
    noWildcard(at + ".includeRequestHeadersInCheck", h.includeRequestHeadersInCheck(), errors);
    noWildcard(at + ".includeHeadersInCheck", h.includeHeadersInCheck(), errors);
    noWildcard(at + ".headersToDownstreamOnDeny", h.headersToDownstreamOnDeny(), errors);
    noWildcard(at + ".headersToDownstreamOnAllow", h.headersToDownstreamOnAllow(), errors);
    noWildcard(at + ".headersToUpstreamOnAllow", h.headersToUpstreamOnAllow(), errors);
    if (hostCluster == null || !errors.isEmpty()) {
      return new Bad(errors);
    }
    HttpService.Builder service =
        HttpService.newBuilder()
            .setServerUri(
                HttpUri.newBuilder()
                    .setUri("http://" + hostCluster[0])
                    .setCluster(hostCluster[1])
                    .setTimeout(timeout(h.timeout())));
    if (h.pathPrefix() != null) {
      service.setPathPrefix(h.pathPrefix());
    }
    ListStringMatcher allowed = headers(h.includeRequestHeadersInCheck());
    if (allowed == null) {
      allowed = headers(h.includeHeadersInCheck()); // deprecated, used only without the new one
    }
    List<HeaderValue> toAdd = new ArrayList<>();
    new java.util.TreeMap<>(h.includeAdditionalHeadersInCheck())
        .forEach((k, v) -> toAdd.add(HeaderValue.newBuilder().setKey(k).setValue(v).build()));
    if (allowed != null || !toAdd.isEmpty()) {
      AuthorizationRequest.Builder req =
          AuthorizationRequest.newBuilder().addAllHeadersToAdd(toAdd);
      if (allowed != null) {
        req.setAllowedHeaders(allowed);
      }
      service.setAuthorizationRequest(req);
    }
    if (!h.headersToUpstreamOnAllow().isEmpty()
        || !h.headersToDownstreamOnDeny().isEmpty()
        || !h.headersToDownstreamOnAllow().isEmpty()) {
      AuthorizationResponse.Builder resp = AuthorizationResponse.newBuilder();
      ListStringMatcher up = headers(h.headersToUpstreamOnAllow());
      ListStringMatcher down = headers(h.headersToDownstreamOnDeny());
      ListStringMatcher downOk = headers(h.headersToDownstreamOnAllow());
      if (up != null) {
        resp.setAllowedUpstreamHeaders(up);
      }
      if (down != null) {
        resp.setAllowedClientHeaders(down);
      }
      if (downOk != null) {
        resp.setAllowedClientHeadersOnSuccess(downOk);
      }
      service.setAuthorizationResponse(resp);
    }
    ExtAuthz.Builder http =
        ExtAuthz.newBuilder()
            .setFailureModeAllow(Boolean.TRUE.equals(h.failOpen()))
            .setTransportApiVersion(ApiVersion.V3)
            .setHttpService(service)
            .setFilterEnabledMetadata(enabledBy(AuthzFilters.HTTP_RBAC));
    if (status != null) {
      http.setStatusOnError(status);
    }
    BufferSettings body = body(h.includeRequestBodyInCheck());
    if (body != null) {
      http.setWithRequestBody(body);
    }
    return new Built(http.build(), null);
  }

  private static Resolved grpc(
      ExtensionProvider.ExtAuthzGrpc g, RegistrySnapshot registry, String at, List<String> errors) {
    String[] hostCluster = lookup(registry, g.service(), g.port(), at, errors);
    HttpStatus status = status(g.statusOnError(), at, errors);
    if (hostCluster == null || !errors.isEmpty()) {
      return new Bad(errors);
    }
    String cluster = hostCluster[1];
    // istiod: '|' is not valid in a gRPC :authority, which would otherwise be the cluster name
    GrpcService service =
        GrpcService.newBuilder()
            .setEnvoyGrpc(
                GrpcService.EnvoyGrpc.newBuilder()
                    .setClusterName(cluster)
                    .setAuthority(cluster.replace("|", "_.")))
            .setTimeout(timeout(g.timeout()))
            .build();
    boolean failOpen = Boolean.TRUE.equals(g.failOpen());
    ExtAuthz.Builder http =
        ExtAuthz.newBuilder()
            .setFailureModeAllow(failOpen)
            .setGrpcService(service)
            .setFilterEnabledMetadata(enabledBy(AuthzFilters.HTTP_RBAC))
            .setTransportApiVersion(ApiVersion.V3);
    if (status != null) {
      http.setStatusOnError(status);
    }
    BufferSettings body = body(g.includeRequestBodyInCheck());
    if (body != null) {
      http.setWithRequestBody(body);
    }
    var tcp =
        io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.newBuilder()
            .setStatPrefix(AuthzFilters.TCP_STAT_PREFIX)
            .setFailureModeAllow(failOpen)
            .setTransportApiVersion(ApiVersion.V3)
            .setGrpcService(service)
            .setFilterEnabledMetadata(enabledBy(AuthzFilters.NETWORK_RBAC))
            .build();
    return new Built(http.build(), tcp);
  }

  /**
   * istiod's {@code LookupCluster}: {@code namespace/host}, or a host found in exactly one
   * namespace; {host, {@code outbound|port||host}}, or null with the reason added to {@code
   * errors}.
   */
  static String @Nullable [] lookup(
      RegistrySnapshot registry,
      @Nullable String service,
      @Nullable Integer port,
      String at,
      List<String> errors) {
    if (port == null || port < 1 || port > 65535) {
      errors.add(at + ".port: must be in the range [1, 65535], found: " + port);
    }
    if (service == null || service.isEmpty()) {
      errors.add(at + ".service: must not be empty");
      return null;
    }
    String host = null;
    int slash = service.indexOf('/');
    if (slash > 0) {
      String ns = service.substring(0, slash);
      String name = service.substring(slash + 1);
      for (Service s : registry.services()) {
        if (s.hostname().equals(name) && s.namespace().equals(ns)) {
          host = name;
        }
      }
      if (host == null) {
        errors.add(at + ".service: could not find service " + service + " in the service registry");
      }
    } else {
      TreeSet<String> namespaces = new TreeSet<>();
      for (Service s : registry.services()) {
        if (s.hostname().equals(service)) {
          namespaces.add(s.namespace());
        }
      }
      if (namespaces.size() == 1) {
        host = service;
      } else if (namespaces.isEmpty()) {
        errors.add(at + ".service: could not find service " + service + " in the service registry");
      } else {
        errors.add(
            at
                + ".service: found "
                + service
                + " in multiple namespaces "
                + namespaces
                + ", specify the namespace explicitly as <namespace>/<hostname>");
      }
    }
    if (host == null || port == null || port < 1 || port > 65535) {
      return null;
    }
    return new String[] {host, "outbound|" + port + "||" + host};
  }

  private static @Nullable HttpStatus status(@Nullable String s, String at, List<String> errors) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    int code;
    try {
      code = Integer.parseInt(s);
    } catch (NumberFormatException e) {
      errors.add(at + ".statusOnError: invalid statusOnError \"" + s + "\": not a number");
      return null;
    }
    StatusCode c = StatusCode.forNumber(code);
    if (c == null || c == StatusCode.Empty) {
      errors.add(at + ".statusOnError: unsupported statusOnError " + s + " (not an HTTP status)");
      return null;
    }
    return HttpStatus.newBuilder().setCode(c).build();
  }

  private static void noWildcard(String at, List<String> values, List<String> errors) {
    if (values.contains("*")) {
      errors.add(
          at
              + ": a single wildcard (\"*\") is not supported, change it to either prefix or"
              + " suffix match");
    }
  }

  /** istiod's header list: case-insensitive, {@code *x} a suffix, {@code x*} a prefix. */
  static @Nullable ListStringMatcher headers(List<String> names) {
    if (names.isEmpty()) {
      return null;
    }
    ListStringMatcher.Builder l = ListStringMatcher.newBuilder();
    for (String h : names) {
      StringMatcher.Builder m = StringMatcher.newBuilder().setIgnoreCase(true);
      if (h.startsWith("*")) {
        m.setSuffix(h.substring(1));
      } else if (h.endsWith("*")) {
        m.setPrefix(h.substring(0, h.length() - 1));
      } else {
        m.setExact(h);
      }
      l.addPatterns(m);
    }
    return l.build();
  }

  /** The filter runs only when the CUSTOM shadow RBAC of {@code rbacFilter} matched a policy. */
  static MetadataMatcher enabledBy(String rbacFilter) {
    return MetadataMatcher.newBuilder()
        .setFilter(rbacFilter)
        .addPath(
            MetadataMatcher.PathSegment.newBuilder()
                .setKey(SHADOW_PREFIX + "shadow_effective_policy_id"))
        .setValue(
            ValueMatcher.newBuilder()
                .setStringMatch(StringMatcher.newBuilder().setPrefix(MATCH_PREFIX)))
        .build();
  }

  private static Duration timeout(java.time.@Nullable Duration d) {
    if (d == null) {
      return DEFAULT_TIMEOUT;
    }
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static @Nullable BufferSettings body(ExtensionProvider.@Nullable BodyInCheck b) {
    if (b == null) {
      return null;
    }
    BufferSettings.Builder s = BufferSettings.newBuilder();
    if (b.maxRequestBytes() != null) {
      s.setMaxRequestBytes(b.maxRequestBytes());
    }
    s.setAllowPartialMessage(Boolean.TRUE.equals(b.allowPartialMessage()));
    s.setPackAsBytes(Boolean.TRUE.equals(b.packAsBytes()));
    return s.build();
  }
}
